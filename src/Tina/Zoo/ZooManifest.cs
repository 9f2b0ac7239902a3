using System.Text.Json;
using Tina.Generic;

namespace Tina.Zoo;

/// <summary>One task of a zoo: its class list, whether it is a training (ID) or held-out (OOD) task, and its seed.</summary>
public sealed record ZooTask
{
    /// <summary>Position in the zoo.</summary>
    public required int Index { get; init; }

    /// <summary><c>train</c> (Tina sees it; ID evaluation) or <c>ood</c> (held out).</summary>
    public required string Split { get; init; }

    /// <summary>Dataset labels in prompt order.</summary>
    public required int[] Classes { get; init; }

    /// <summary>Class names in prompt order.</summary>
    public required string[] Names { get; init; }

    /// <summary>How the classes were drawn (see <see cref="Tasks.TaskKind"/>).</summary>
    public required string Kind { get; init; }

    /// <summary>Seed of the p-Model's data order and augmentation.</summary>
    public required int Seed { get; init; }

    /// <summary>
    /// In a zoo with held-out classes (<see cref="ZooManifest.UnseenClasses"/>), the share of this OOD task's classes
    /// drawn from them (the group it is reported in); null otherwise.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? UnseenRatio { get; init; }
}

/// <summary>A safetensors shard holding the p-Models of consecutive tasks, with their measured p-Acc.</summary>
public sealed record ZooShard
{
    /// <summary>File name inside the zoo folder.</summary>
    public required string File { get; init; }

    /// <summary>Index of its first task.</summary>
    public required int First { get; init; }

    /// <summary>Number of p-Models (rows of its <c>parameters</c> tensor).</summary>
    public required int Count { get; init; }

    /// <summary>
    /// p-Acc (%) of each p-Model on its task's classes of the test split, or of the validation split in a zoo built with
    /// one (<see cref="ZooManifest.Validation"/>).
    /// </summary>
    public required double[] PAcc { get; init; }
}

/// <summary>
/// The zoo's <c>manifest.json</c>: settings, the full task list (fixed by the seed before any training) and the
/// finished shards. It is rewritten atomically after each shard, so it never names a shard that is not complete.
/// </summary>
public sealed record ZooManifest
{
    /// <summary>File name of the manifest in a zoo folder.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Format id.</summary>
    public string Format { get; init; } = "tina-zoo-v1";

    /// <summary>Dataset id.</summary>
    public required string Dataset { get; init; }

    /// <summary>p-Model architecture.</summary>
    public required string Arch { get; init; }

    /// <summary>
    /// The <see cref="Tina.Recipe"/> the zoo was built with (<c>tina zoo build --recipe</c>), whose generator settings
    /// <c>tina train</c> uses on it by default; null for a zoo built before recipes (its architecture's recipe applies).
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Recipe { get; init; }

    /// <summary>Length of each stored parameter vector (the layout of <see cref="ClassesPerTask"/> classes).</summary>
    public required int ParameterCount { get; init; }

    /// <summary>Classes per task; with <see cref="MinClassesPerTask"/>, the largest count (shards store every p-Model in its layout).</summary>
    public required int ClassesPerTask { get; init; }

    /// <summary>Smallest class count of a task, or null when every task has <see cref="ClassesPerTask"/> classes.</summary>
    public int? MinClassesPerTask { get; init; }

    /// <summary>The class counts the zoo's tasks have, smallest first.</summary>
    public IReadOnlyList<int> ClassCounts() => Tasks.Select(t => t.Classes.Length).Distinct().Order().ToList();

    /// <summary>Seed of the task sampler and of the per-task seeds.</summary>
    public required int Seed { get; init; }

    /// <summary>Generic model the p-Models start from (and, for ResNet-20, share the backbone of).</summary>
    public required string GenericModel { get; init; }

    /// <summary><c>sha256:…</c> of the generic model's weights file; null in zoos built before it was recorded.</summary>
    public string? GenericModelSha256 { get; init; }

    /// <summary>
    /// The slice of the task groups this folder builds, e.g. <c>1/3</c> (<see cref="ZooSlice"/>); null for a whole zoo
    /// (also after <see cref="ZooMerge"/>).
    /// </summary>
    public string? Slice { get; init; }

    /// <summary>Fine-tuning settings.</summary>
    public required FineTuneOptions FineTune { get; init; }

    /// <summary>Classes kept out of every training task (sorted dataset labels), or null when every class may appear.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int[]? UnseenClasses { get; init; }

    /// <summary>
    /// The validation split this zoo was built for choosing settings with (<c>tina zoo build --val-fraction</c>): its
    /// p-Models were fine-tuned without these training images and are scored on them, and <c>tina eval</c> scores every
    /// method on them instead of the test split. Null (the usual zoo): all training images, scored on the test split.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Data.ValidationSplit? Validation { get; init; }

    /// <summary>
    /// The images this zoo's p-Acc are measured on: <paramref name="data"/> itself, or, in a zoo with a
    /// <see cref="Validation"/> split, the dataset whose test split is that validation split.
    /// </summary>
    public Data.ImageDataset EvaluationData(Data.ImageDataset data) => Validation is { } v ? v.Apply(data) : data;

    /// <summary>All tasks, training ones first.</summary>
    public required List<ZooTask> Tasks { get; init; }

    /// <summary>Finished shards.</summary>
    public List<ZooShard> Shards { get; init; } = [];

    /// <summary>Writes the manifest atomically into <paramref name="dir"/>.</summary>
    public void Save(string dir) => AtomicFile.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Generic.GenericModel.Json));

    /// <summary>Reads the manifest of the zoo in <paramref name="dir"/>.</summary>
    public static ZooManifest Load(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Build a zoo first: tina zoo build --dataset cifar100 --arch cnn5k.");
        try
        {
            return JsonSerializer.Deserialize<ZooManifest>(File.ReadAllText(path), Generic.GenericModel.Json) ?? throw new JsonException("empty manifest");
        }
        catch (JsonException e) { throw new CorruptFileException(path, e.Message, e); }
    }
}
