using System.Text.Json;
using Tina.IO;
using Tina.PModels;

namespace Tina.Generic;

/// <summary>
/// The stage-1 generic model: a p-Model network trained on all classes of a dataset, the starting point of every
/// p-Model and of the baselines. Stored as <c>NAME.safetensors</c> (weights) + <c>NAME.json</c> (<see cref="GenericModelCard"/>).
/// </summary>
public sealed class GenericModel : IDisposable
{
    /// <summary>JSON options used for cards and reports (camelCase, indented).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Wraps a trained network and its card.</summary>
    public GenericModel(PModelNetwork network, GenericModelCard card)
    {
        Network = network;
        Card = card;
        Network.eval();
    }

    /// <summary>The network (eval mode).</summary>
    public PModelNetwork Network { get; }

    /// <summary>What it is and how it was trained.</summary>
    public GenericModelCard Card { get; }

    /// <summary>The architecture.</summary>
    public PModelArch Arch => Network.Arch;

    /// <summary>Default path of the generic model of <paramref name="dataset"/>/<paramref name="arch"/> under an artifacts folder (without extension).</summary>
    public static string DefaultPath(string artifactsDir, string dataset, PModelArch arch) =>
        Path.Combine(artifactsDir, "generic", $"{dataset}-{arch.ToName()}");

    /// <summary>Saves weights and card atomically to <paramref name="basePath"/>.safetensors/.json.</summary>
    public void Save(string basePath)
    {
        SafeTensors.Save(basePath + ".safetensors", StateDict.Export(Network),
            new Dictionary<string, string> { ["arch"] = Card.Arch, ["dataset"] = Card.Dataset, ["format"] = "tina-generic-v1" });
        AtomicFile.WriteAllText(basePath + ".json", JsonSerializer.Serialize(Card, Json));
    }

    /// <summary>Reads only the card of the generic model at <paramref name="basePath"/> (no weights).</summary>
    /// <exception cref="TinaFileNotFoundException">The card is missing.</exception>
    /// <exception cref="CorruptFileException">The card is unreadable.</exception>
    public static GenericModelCard ReadCard(string basePath)
    {
        var cardPath = StripExtension(basePath) + ".json";
        if (!File.Exists(cardPath))
            throw new TinaFileNotFoundException(cardPath, "Train the generic model first: tina generic train --dataset DATASET --arch ARCH.");
        try
        {
            return JsonSerializer.Deserialize<GenericModelCard>(File.ReadAllText(cardPath), Json) ?? throw new JsonException("empty card");
        }
        catch (JsonException e) { throw new CorruptFileException(cardPath, e.Message, e); }
    }

    /// <summary>Loads a generic model saved by <see cref="Save"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">Weights or card are missing.</exception>
    /// <exception cref="CorruptFileException">The card or weights are unreadable or do not match.</exception>
    public static GenericModel Load(string basePath)
    {
        basePath = StripExtension(basePath);
        var card = ReadCard(basePath);
        var (tensors, _) = SafeTensors.Load(basePath + ".safetensors");
        var net = PModelNetwork.Create(PModelArchNames.Parse(card.Arch), card.Classes.Count, seed: 0); // locked draws, overwritten below (see PModel.ToNetwork)
        StateDict.Import(net, tensors, basePath + ".safetensors");
        if (net is ResNet18Head head && card.Backbone is { } trainedOn && head.Backbone.Backbone.Identity != trainedOn)
        {
            net.Dispose();
            throw new TinaException($"The generic model {basePath} was trained on another ResNet-18 file ({trainedOn}) than the one found at {head.Backbone.Backbone.ModelPath} ({head.Backbone.Backbone.Identity}); retrain it with tina generic train --force.");
        }
        return new GenericModel(net, card);
    }

    /// <summary>Removes a trailing .json/.safetensors so either file (or the base) can be passed.</summary>
    public static string StripExtension(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? path[..^5]
        : path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? path[..^12] : path;

    /// <inheritdoc />
    public void Dispose() => Network.Dispose();
}
