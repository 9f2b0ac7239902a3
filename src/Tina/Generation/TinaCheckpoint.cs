using System.Text.Json;
using System.Text.Json.Serialization;
using Tina.Diffusion;
using Tina.IO;

namespace Tina.Generation;

/// <summary>
/// The <c>state.json</c> of a Tina checkpoint folder: everything needed to resume training or to generate — the
/// transformer config, the training options, the text encoder's id, the p-Model architecture, the zoo and generic
/// model it came from, the parameter normaliser, the loss of every finished epoch and the names of the epoch's files.
/// It is written last, atomically, after the files it names: it is the commit point of an epoch.
/// </summary>
public sealed record TinaCheckpointState
{
    /// <summary>Format id.</summary>
    public string Format { get; init; } = TinaCheckpoint.FormatName;

    /// <summary>Finished epochs.</summary>
    public required int Epoch { get; init; }

    /// <summary>Epochs of the whole run.</summary>
    public required int Epochs { get; init; }

    /// <summary>Optimizer steps per epoch.</summary>
    public required int StepsPerEpoch { get; init; }

    /// <summary>p-Model architecture (<c>cnn5k</c> / <c>resnet20</c>).</summary>
    public required string Arch { get; init; }

    /// <summary>The transformer configuration.</summary>
    public required TinaConfig Config { get; init; }

    /// <summary>The training options.</summary>
    public required TinaTrainingOptions Options { get; init; }

    /// <summary><see cref="Text.ITextEncoder.Id"/> of the encoder the class tokens came from.</summary>
    public required string TextEncoderId { get; init; }

    /// <summary>The texts whose embeddings are stored in the weights file (<c>text.embeddings</c>, one row each): the zoo's class names, then '&lt;-&gt;'.</summary>
    public required string[] TextNames { get; init; }

    /// <summary>Whether the '&lt;-&gt;' row is the encoder's embedding of '&lt;-&gt;' (true) or a zero vector because the encoder has no word for it (false).</summary>
    public required bool PadFromEncoder { get; init; }

    /// <summary>Absolute path of the zoo trained on.</summary>
    public required string ZooPath { get; init; }

    /// <summary>Dataset of the zoo.</summary>
    public required string Dataset { get; init; }

    /// <summary>Classes per task of the zoo.</summary>
    public required int ZooClassesPerTask { get; init; }

    /// <summary>Training p-Models in the zoo.</summary>
    public required int TrainModels { get; init; }

    /// <summary>Path of the zoo's generic model (its frozen backbone is also stored in the weights file for ResNet-20).</summary>
    public string? GenericModelPath { get; init; }

    /// <summary>The parameter normaliser (<see cref="ParameterNormalizer.ToJson"/>).</summary>
    public required string Normalizer { get; init; }

    /// <summary>Mean training loss of each finished epoch.</summary>
    public required List<double> EpochLoss { get; init; }

    /// <summary>Training seconds so far (over all resumed runs).</summary>
    public double Seconds { get; init; }

    /// <summary>Safetensors file of the epoch: <c>model.*</c>, <c>ema.*</c>, <c>text.embeddings</c> and, for ResNet-20, <c>frozen.*</c>.</summary>
    public required string WeightsFile { get; init; }

    /// <summary>TorchSharp optimizer state file of the epoch.</summary>
    public required string OptimizerFile { get; init; }
}

/// <summary>Reading and writing Tina checkpoint folders.</summary>
public static class TinaCheckpoint
{
    /// <summary>Format id in <c>state.json</c>.</summary>
    public const string FormatName = "tina-generator-v1";

    /// <summary>The commit-point file.</summary>
    public const string StateFile = "state.json";

    /// <summary>The per-epoch loss curve (CSV: epoch,loss).</summary>
    public const string LossFile = "loss.csv";

    /// <summary>JSON options (camelCase, indented, enums as names).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Whether <paramref name="dir"/> holds a committed checkpoint.</summary>
    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, StateFile));

    /// <summary>Reads the state of the checkpoint in <paramref name="dir"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">No checkpoint there.</exception>
    /// <exception cref="CorruptFileException">Unreadable state.</exception>
    public static TinaCheckpointState Load(string dir)
    {
        var path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Train a generator first: tina train --zoo DIR.");
        try
        {
            var s = JsonSerializer.Deserialize<TinaCheckpointState>(File.ReadAllText(path), Json) ?? throw new JsonException("empty state");
            if (s.Format != FormatName) throw new JsonException($"format '{s.Format}' is not '{FormatName}'");
            return s;
        }
        catch (JsonException e) { throw new CorruptFileException(path, e.Message, e); }
    }

    /// <summary>Writes the state atomically (the commit point).</summary>
    internal static void Save(string dir, TinaCheckpointState state) =>
        AtomicFile.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(state, Json));

    /// <summary>Tensors under <paramref name="prefix"/> (e.g. <c>model.</c>), with the prefix removed.</summary>
    internal static Dictionary<string, NamedTensor> WithPrefix(IReadOnlyDictionary<string, NamedTensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
}
