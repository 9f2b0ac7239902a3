using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tina.Diffusion;
using Tina.IO;
using Tina.PModels;
using Tina.Runtime.Optim;

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

    /// <summary>
    /// The <see cref="Tina.Recipe"/> the generator was trained with (<c>tina train --recipe</c>); null for one trained
    /// before recipes or without one (its architecture's recipe then gives the defaults, e.g. the DDIM steps).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Recipe { get; init; }

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

    /// <summary>
    /// The <c>sha256:…</c> identity of the pretrained backbone the zoo's heads were trained on (resnet18; null for the
    /// CIFAR networks, whose frozen backbone is stored in the weights): generation refuses another backbone file.
    /// </summary>
    public string? Backbone { get; init; }

    /// <summary>The parameter normaliser (<see cref="ParameterNormalizer.ToJson"/>).</summary>
    public required string Normalizer { get; init; }

    /// <summary>Mean training loss of each finished epoch.</summary>
    public required List<double> EpochLoss { get; init; }

    /// <summary>Training seconds so far (over all resumed runs).</summary>
    public double Seconds { get; init; }

    /// <summary>Safetensors file of the epoch: <c>model.*</c>, <c>ema.*</c>, <c>text.embeddings</c>, for ResNet-20 <c>frozen.*</c>.</summary>
    public required string WeightsFile { get; init; }

    /// <summary>TorchSharp optimizer state file of the epoch.</summary>
    public required string OptimizerFile { get; init; }
}

/// <summary>
/// The tensors of one epoch's weights file (<see cref="TinaCheckpointState.WeightsFile"/>), a safetensors file whose
/// tensor names carry a prefix per part: <c>model.*</c> (the transformer's state dict), <c>ema.*</c> (the exponential
/// moving average of every <c>model.*</c> tensor), <c>text.embeddings</c> (the text table, one row per
/// <see cref="TinaCheckpointState.TextNames"/> entry) and, for ResNet-20 p-Models only, <c>frozen.*</c> (the generic
/// model's backbone, everything but the classifier). The parts are written in that order, each in the order given.
/// </summary>
/// <param name="Model">The transformer's weights by state-dict name.</param>
/// <param name="Ema">The EMA weights: the same names and shapes as <paramref name="Model"/>.</param>
/// <param name="TextEmbeddings">The text table, shape [text names, text dimension].</param>
/// <param name="Frozen">The frozen backbone of ResNet-20 p-Models by state-dict name; null for CNN-5K.</param>
/// <param name="StartMap">With <see cref="TinaTrainingOptions.Start"/>, the text-to-rows map (<c>start.map</c>); null otherwise.</param>
/// <param name="StartTable">With <see cref="TinaTrainingOptions.Start"/>, the stored texts' starts (<c>start.table</c>); null otherwise.</param>
public sealed record TinaWeights(
    IReadOnlyDictionary<string, NamedTensor> Model,
    IReadOnlyDictionary<string, NamedTensor> Ema,
    NamedTensor TextEmbeddings,
    IReadOnlyDictionary<string, NamedTensor>? Frozen,
    NamedTensor? StartMap = null,
    NamedTensor? StartTable = null)
{
    private const string ModelPrefix = "model.", EmaPrefix = "ema.", TextEmbeddingsName = "text.embeddings", FrozenPrefix = "frozen.",
        StartMapName = "start.map", StartTableName = "start.table";

    /// <summary>Reads and checks the weights file of the checkpoint in <paramref name="checkpointDir"/> whose state is <paramref name="state"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The state names a weights file that is missing.</exception>
    /// <exception cref="CorruptFileException">
    /// The file is unreadable or does not fit the state: no model tensors, EMA tensors other than the model's, a text
    /// table of another shape, or frozen backbone tensors missing (ResNet-20) or present (CNN-5K). The message names
    /// the file and the problem.
    /// </exception>
    public static TinaWeights Load(string checkpointDir, TinaCheckpointState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var path = Path.Combine(checkpointDir, state.WeightsFile);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "The checkpoint's state names a weights file that is missing.");
        var (tensors, _) = SafeTensors.Load(path);

        var model = WithPrefix(tensors, ModelPrefix);
        if (model.Count == 0) throw new CorruptFileException(path, $"no '{ModelPrefix}*' tensors");
        var ema = WithPrefix(tensors, EmaPrefix);
        foreach (var (name, m) in model)
            if (!ema.TryGetValue(name, out var e) || !e.Shape.SequenceEqual(m.Shape))
                throw new CorruptFileException(path, $"EMA tensor '{name}' is missing or has another shape than the model's");
        if (ema.Count != model.Count)
            throw new CorruptFileException(path, $"EMA tensor '{ema.Keys.First(k => !model.ContainsKey(k))}' has no model tensor");

        int rows = state.TextNames.Length, dim = state.Config.TextDim;
        if (!tensors.TryGetValue(TextEmbeddingsName, out var table) || table.Shape.Length != 2 || table.Shape[0] != rows || table.Shape[1] != dim)
            throw new CorruptFileException(path, $"expected a '{TextEmbeddingsName}' tensor of shape [{rows}, {dim}]");

        var frozen = WithPrefix(tensors, FrozenPrefix);
        bool needsFrozen = PModelArchNames.Parse(state.Arch) == PModelArch.ResNet20;
        if (needsFrozen && frozen.Count == 0)
            throw new CorruptFileException(path, $"a ResNet-20 generator needs the frozen backbone tensors ('{FrozenPrefix}*')");
        if (!needsFrozen && frozen.Count > 0)
            throw new CorruptFileException(path, $"a {state.Arch} generator has no frozen backbone, but the file holds '{FrozenPrefix}*' tensors");

        bool needsStart = state.Options.Start != RowStart.None;
        tensors.TryGetValue(StartMapName, out var startMap);
        tensors.TryGetValue(StartTableName, out var startTable);
        if (needsStart && (startMap is null || startTable is null || startTable.Shape.Length != 2 || startTable.Shape[0] != rows - 1
            || startMap.Shape.Length != 2 || startMap.Shape[0] != dim + 1 || startMap.Shape[1] != startTable.Shape[1]))
            throw new CorruptFileException(path, $"a generator of rows relative to text-to-rows needs a '{StartMapName}' of {dim + 1} rows and a '{StartTableName}' of {rows - 1} rows, as wide as each other");
        if (!needsStart && (startMap is not null || startTable is not null))
            throw new CorruptFileException(path, $"the file holds '{StartMapName}' or '{StartTableName}', but the state says the rows have no start");

        return new TinaWeights(model, ema, table, needsFrozen ? frozen : null, startMap, startTable);
    }

    /// <summary>Writes the weights file named by <paramref name="state"/> into <paramref name="checkpointDir"/>, atomically.</summary>
    internal void Save(string checkpointDir, TinaCheckpointState state)
    {
        var tensors = new List<KeyValuePair<string, NamedTensor>>();
        foreach (var (k, v) in Model) tensors.Add(new(ModelPrefix + k, v));
        foreach (var (k, v) in Ema) tensors.Add(new(EmaPrefix + k, v));
        tensors.Add(new(TextEmbeddingsName, TextEmbeddings));
        if (Frozen is not null)
            foreach (var (k, v) in Frozen) tensors.Add(new(FrozenPrefix + k, v));
        if (StartMap is not null) tensors.Add(new(StartMapName, StartMap));
        if (StartTable is not null) tensors.Add(new(StartTableName, StartTable));
        SafeTensors.Save(Path.Combine(checkpointDir, state.WeightsFile), tensors, new Dictionary<string, string>
        {
            ["format"] = TinaCheckpoint.FormatName, ["arch"] = state.Arch,
            ["epoch"] = state.Epoch.ToString(CultureInfo.InvariantCulture), ["textEncoder"] = state.TextEncoderId,
        });
    }

    /// <summary>Tensors under <paramref name="prefix"/> (e.g. <c>model.</c>), with the prefix removed, in file order.</summary>
    private static Dictionary<string, NamedTensor> WithPrefix(IReadOnlyDictionary<string, NamedTensor> tensors, string prefix) =>
        tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);
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

    private const string WeightsPrefix = "weights-e", OptimizerPrefix = "optim-e";

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
    /// <exception cref="TinaException">The generator was trained with an option since removed (the message names it and the last commit with it).</exception>
    public static TinaCheckpointState Load(string dir)
    {
        var path = Path.Combine(dir, StateFile);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Train a generator first: tina train --zoo DIR.");
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new JsonException("not a JSON object");
            RefuseRemovedOptions(path, root);
            ReadOldTokenSwitches(root);
            var s = root.Deserialize<TinaCheckpointState>(Json) ?? throw new JsonException("empty state");
            if (s.Format != FormatName) throw new JsonException($"format '{s.Format}' is not '{FormatName}'");
            return s;
        }
        catch (Exception e) when (e is JsonException or ArgumentException) { throw new CorruptFileException(path, e.Message, e); }
    }

    /// <summary>
    /// Refuses a state written with an option that changed what the generator computes and was since removed because it
    /// measured no gain (<c>--relative-to classifier-selection</c>, <c>--normalize center|standardize</c>): the message
    /// names the option and the last commit that has it. Options that only shaped training (task mixing, dropout, text
    /// noise, another weight decay or chunk size) leave a generator that loads as it is.
    /// </summary>
    private static void RefuseRemovedOptions(string path, JsonObject root)
    {
        if (root["options"] is not JsonObject o) return;
        string? Value(string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var x) ? x : null;
        string? removed = Value("relativeTo") is { } relative && relative != "None" ? "--relative-to classifier-selection (generating the change from classifier selection)"
            : Value("normalization") is "Center" or "Standardize" ? $"--normalize {Value("normalization")!.ToLowerInvariant()}"
            : null;
        if (removed is not null)
            throw new TinaException($"The generator {Path.GetDirectoryName(path)} was trained with {removed}, an option removed because it measured no gain (docs/RESULTS.md). Retrain it without, or use Tina at commit {RemovedOptions.LastCommit}, the last with the option.");
    }

    /// <summary>
    /// Checkpoints written before <see cref="TokenLayout"/> stored three switches in the config and the options
    /// (<c>classifierRowTokens</c>, <c>sharedSlots</c>, <c>mergedTextToken</c>; absent ones false in the config):
    /// they become the config's <c>tokens</c>, and the options get the config's layout, which they were checked to give.
    /// </summary>
    private static void ReadOldTokenSwitches(JsonObject root)
    {
        if (root["config"] is not JsonObject config || config.ContainsKey("tokens")) return;
        bool Switch(string name) => config[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        var layout = TokenLayouts.FromSwitches(Switch("classifierRowTokens"), Switch("sharedSlots"), Switch("mergedTextToken"));
        config["tokens"] = layout.ToString();
        if (root["options"] is JsonObject options && !options.ContainsKey("tokens")) options["tokens"] = layout.ToString();
    }

    /// <summary>The weights file name of the checkpoint after <paramref name="epoch"/> epochs.</summary>
    internal static string WeightsFileName(int epoch) => $"{WeightsPrefix}{epoch}.safetensors";

    /// <summary>The optimizer state file name of the checkpoint after <paramref name="epoch"/> epochs.</summary>
    internal static string OptimizerFileName(int epoch) => $"{OptimizerPrefix}{epoch}.safetensors";

    /// <summary>
    /// Commits an epoch: writes the weights file, the optimizer state and <see cref="LossFile"/>, then
    /// <see cref="StateFile"/> (the commit point: it only names files that are completely written), then deletes the
    /// weights and optimizer files of earlier epochs. Every file is written atomically.
    /// </summary>
    internal static void Commit(string dir, TinaCheckpointState state, TinaWeights weights, Optimizer optimizer)
    {
        weights.Save(dir, state);
        optimizer.SaveState(Path.Combine(dir, state.OptimizerFile));
        var csv = new StringBuilder("epoch,loss\n");
        for (int i = 0; i < state.EpochLoss.Count; i++) csv.Append(CultureInfo.InvariantCulture, $"{i + 1},{state.EpochLoss[i]:R}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, LossFile), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(dir, StateFile), JsonSerializer.Serialize(state, Json));
        foreach (var old in Directory.GetFiles(dir, "*-e*.*"))
        {
            var name = Path.GetFileName(old);
            if (name != state.WeightsFile && name != state.OptimizerFile
                && (name.StartsWith(WeightsPrefix, StringComparison.Ordinal) || name.StartsWith(OptimizerPrefix, StringComparison.Ordinal)))
                File.Delete(old);
        }
    }

    /// <summary>Restores <paramref name="optimizer"/> from the optimizer state of the checkpoint in <paramref name="dir"/>.</summary>
    /// <exception cref="CorruptFileException">The state file does not fit the optimizer.</exception>
    internal static void LoadOptimizer(string dir, TinaCheckpointState state, Optimizer optimizer) =>
        optimizer.LoadState(Path.Combine(dir, state.OptimizerFile));
}
