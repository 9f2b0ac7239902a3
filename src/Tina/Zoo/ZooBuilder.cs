using System.Diagnostics;
using System.Text.Json;
using Tina.Data;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Runtime;
using Tina.Tasks;

namespace Tina.Zoo;

/// <summary>What to build: how many tasks, of how many classes, from which seed, fine-tuned how.</summary>
public sealed record ZooBuildOptions
{
    /// <summary>The zoo build options of <paramref name="recipe"/> (seed 0, no held-out classes, no validation split), naming it.</summary>
    public static ZooBuildOptions FromRecipe(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var zoo = recipe.Zoo;
        return new()
        {
            Recipe = recipe.Name, TrainTasks = zoo.TrainTasks, OodTasks = zoo.OodTasks, ClassesPerTask = zoo.MaxClasses, MinClassesPerTask = zoo.MinClasses,
            FineTune = new FineTuneOptions { Epochs = zoo.Epochs, LearningRate = zoo.LearningRate, BatchSize = zoo.BatchSize, ModelsPerGroup = zoo.ModelsPerGroup },
        };
    }

    /// <summary>Training (ID) tasks; the paper: 1,000.</summary>
    public int TrainTasks { get; init; } = 1000;

    /// <summary>The name of the <see cref="Tina.Recipe"/> these options come from, recorded in the manifest; null: none.</summary>
    public string? Recipe { get; init; }

    /// <summary>Held-out (OOD) tasks; the paper: 150.</summary>
    public int OodTasks { get; init; } = 150;

    /// <summary>Classes per task; with <see cref="MinClassesPerTask"/>, the largest count.</summary>
    public int ClassesPerTask { get; init; } = 10;

    /// <summary>
    /// Smallest class count of a task; null means every task has <see cref="ClassesPerTask"/> classes. With a range,
    /// every count from this one to <see cref="ClassesPerTask"/> is drawn equally often (<see cref="TaskSampler"/>).
    /// </summary>
    public int? MinClassesPerTask { get; init; }

    /// <summary>Seed of the task sampler and per-task seeds.</summary>
    public int Seed { get; init; }

    /// <summary>Fine-tuning settings.</summary>
    public FineTuneOptions FineTune { get; init; } = new();

    /// <summary>
    /// Share of the dataset's classes kept out of every training task (the paper's unseen-classes study, Table 3);
    /// 0 (the default) keeps none. The classes are drawn by <see cref="TaskSampler.HeldOutClasses"/> from the seed and
    /// listed in the manifest; the OOD tasks are then split evenly over <see cref="UnseenRatios"/>.
    /// </summary>
    public double UnseenClassFraction { get; init; }

    /// <summary>Shares of held-out classes in the OOD tasks of a zoo with <see cref="UnseenClassFraction"/> above 0 (default 0, 0.2, 0.5, 1).</summary>
    public IReadOnlyList<double> UnseenRatios { get; init; } = [0, 0.2, 0.5, 1];

    /// <summary>
    /// Share of each class's training images held out as a validation split (0, the default: none). The p-Models are
    /// fine-tuned on the rest and scored on it, so a zoo recipe can be chosen by what a generator learns from it without
    /// the test split (<see cref="ZooManifest.Validation"/>). With a generic model trained with a held-out share, its
    /// held-out images are the validation split (<see cref="RecipeSearch.Split"/>).
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>
    /// Build only this slice of the task groups (for several machines; merge the slices with <see cref="ZooMerge"/>);
    /// null builds them all.
    /// </summary>
    public ZooSlice? Slice { get; init; }
}

/// <summary>
/// Slice <see cref="Index"/> of <see cref="Count"/> of a zoo build: the task groups g (of
/// <see cref="FineTuneOptions.ModelsPerGroup"/> consecutive tasks) with g mod Count = Index. Every p-Model depends only
/// on its own task and seed, so the slices' shards are byte for byte those of a single build.
/// </summary>
/// <param name="Index">0-based slice number.</param>
/// <param name="Count">Number of slices.</param>
public sealed record ZooSlice(int Index, int Count)
{
    /// <summary>Parses <c>I/N</c> with 0 ≤ I &lt; N (e.g. a Kubernetes job-completion index or a Slurm array task id).</summary>
    /// <exception cref="TinaException">Not of that form.</exception>
    public static ZooSlice Parse(string text)
    {
        var parts = (text ?? "").Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 && i < n)
            return new ZooSlice(i, n);
        throw new TinaException($"--shard must be I/N with 0 ≤ I < N (e.g. 0/3); got '{text}'.");
    }

    /// <summary>Whether task group <paramref name="group"/> belongs to this slice.</summary>
    public bool Contains(int group) => group % Count == Index;

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>Progress of a zoo build.</summary>
/// <param name="Done">p-Models finished (including those found from an earlier run).</param>
/// <param name="Total">p-Models in the zoo.</param>
/// <param name="PerMinute">Throughput of this run so far.</param>
/// <param name="MeanPAcc">Mean p-Acc of the finished p-Models, %.</param>
/// <param name="InProgress">p-Models' worth of work done in the group being trained (fractional).</param>
public sealed record ZooProgress(int Done, int Total, double PerMinute, double MeanPAcc, double InProgress = 0);

/// <summary>
/// Builds a p-Model zoo in a folder: draws the tasks (paper's mix for CIFAR-100), fine-tunes them group by group
/// (<see cref="FineTuner"/>), and stores each group as a safetensors shard (<c>parameters</c> [n, P], readable from
/// Python) before atomically updating the manifest. Rerunning after a crash or kill continues with the first missing
/// shard; nothing finished is lost or recomputed.
/// </summary>
public sealed class ZooBuilder
{
    private readonly GenericModel generic;
    private readonly string genericPath;
    private readonly ImageDataset data;
    private readonly ZooBuildOptions options;
    private readonly ValidationSplit? validation;

    /// <summary>A builder of the zoo <paramref name="options"/> describe, from <paramref name="generic"/> (stored at <paramref name="genericPath"/>).</summary>
    /// <exception cref="TinaException"><see cref="ZooBuildOptions.ValidationFraction"/> is not 0 and not in (0, 1).</exception>
    public ZooBuilder(GenericModel generic, string genericPath, ImageDataset data, ZooBuildOptions options)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.ValidationFraction != 0 && !(options.ValidationFraction > 0 && options.ValidationFraction < 1))
            throw new TinaException($"The validation share must be 0 (none) or between 0 and 1; got {options.ValidationFraction}.");
        this.generic = generic;
        this.genericPath = genericPath;
        this.options = options;
        validation = options.ValidationFraction > 0 ? RecipeSearch.Split(generic, options.ValidationFraction, options.Seed) : null;
        // With a validation split the p-Models never see its images, and their p-Acc is measured on them.
        this.data = validation?.Apply(data) ?? data;
    }

    /// <summary>Builds (or completes) the zoo in <paramref name="dir"/> and returns its manifest.</summary>
    public ZooManifest Build(string dir, IProgress<ZooProgress>? progress = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(dir);
        var fresh = Plan();
        var manifest = fresh;
        if (File.Exists(Path.Combine(dir, ZooManifest.FileName)))
        {
            var existing = ZooManifest.Load(dir);
            if (!SameSettings(existing, fresh) || existing.Slice != fresh.Slice)
                throw new TinaException($"The zoo in {dir} was built with other settings (dataset {existing.Dataset}, arch {existing.Arch}, {existing.Tasks.Count} tasks, seed {existing.Seed}{(existing.Slice is null ? "" : $", slice {existing.Slice}")}; {existing.FineTune}{(existing.Validation is null ? "" : $"; validation split {existing.Validation}")}). Use another --out folder or the same settings (the recipe above, e.g. its learning rate, if a default has changed since).");
            // Keep only shards whose files are really there.
            manifest = existing with { Shards = existing.Shards.Where(s => File.Exists(Path.Combine(dir, s.File))).ToList() };
        }
        manifest.Save(dir);

        int groupSize = Math.Max(1, options.FineTune.ModelsPerGroup);
        var slice = options.Slice;
        int total = Enumerable.Range(0, (manifest.Tasks.Count + groupSize - 1) / groupSize).Where(g => slice?.Contains(g) ?? true)
            .Sum(g => Math.Min(groupSize, manifest.Tasks.Count - g * groupSize));
        var done = manifest.Shards.Select(s => s.First).ToHashSet();
        int finished = manifest.Shards.Sum(s => s.Count);
        var sw = Stopwatch.StartNew();
        int trainedNow = 0;
        progress?.Report(new ZooProgress(finished, total, 0, MeanPAcc(manifest)));
        using var tuner = new FineTuner(generic, data, options.FineTune);
        for (int first = 0; first < manifest.Tasks.Count; first += groupSize)
        {
            if (done.Contains(first) || !(slice?.Contains(first / groupSize) ?? true)) continue;
            cancel.ThrowIfCancellationRequested();
            var tasks = manifest.Tasks.Skip(first).Take(groupSize).ToList();
            var inGroup = new Progress(f => progress?.Report(new ZooProgress(finished, total, trainedNow / Math.Max(1e-9, sw.Elapsed.TotalMinutes), MeanPAcc(manifest), f * tasks.Count)));
            var results = tuner.Train(tasks.Select(t => (new PersonalizationTask(t.Classes, t.Names), t.Seed)).ToList(), cancel, inGroup);
            var file = $"shard-{first:D6}.safetensors";
            WriteShard(Path.Combine(dir, file), tasks, results, ParameterLayout.For(generic.Arch, manifest.ClassesPerTask));
            manifest.Shards.Add(new ZooShard { File = file, First = first, Count = tasks.Count, PAcc = results.Select(r => Math.Round(r.PAcc, 3)).ToArray() });
            manifest.Shards.Sort((a, b) => a.First.CompareTo(b.First));
            manifest.Save(dir);
            finished += tasks.Count;
            trainedNow += tasks.Count;
            progress?.Report(new ZooProgress(finished, total, trainedNow / Math.Max(1e-9, sw.Elapsed.TotalMinutes), MeanPAcc(manifest)));
        }
        return manifest;
    }

    /// <summary>Reports synchronously on the training thread.</summary>
    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private ZooManifest Plan()
    {
        int minClasses = options.MinClassesPerTask ?? options.ClassesPerTask;
        int[]? heldOut = null;
        List<(SampledTask Task, string Split, double? Unseen)> drawn;
        if (options.UnseenClassFraction > 0)
        {
            heldOut = TaskSampler.HeldOutClasses(data, options.UnseenClassFraction, options.Seed);
            var seen = Enumerable.Range(0, data.NumClasses).Except(heldOut).ToArray();
            var sampler = new TaskSampler(data, minClasses, options.ClassesPerTask, options.Seed, seen);
            drawn = sampler.Draw(options.TrainTasks).Select(t => (t, "train", (double?)null)).ToList();
            // OOD tasks: an even share for each unseen ratio (the first ratios get the remainder).
            var ratios = options.UnseenRatios;
            if (ratios.Count == 0 || ratios.Any(r => r is < 0 or > 1)) throw new TinaException("Give at least one unseen ratio, each between 0 and 1.");
            for (int j = 0; j < ratios.Count; j++)
            {
                int n = options.OodTasks / ratios.Count + (j < options.OodTasks % ratios.Count ? 1 : 0);
                drawn.AddRange(sampler.DrawWithUnseen(n, heldOut, ratios[j]).Select(t => (t, "ood", (double?)ratios[j])));
            }
        }
        else
        {
            var sampler = new TaskSampler(data, minClasses, options.ClassesPerTask, options.Seed);
            var (train, ood) = sampler.Split(options.TrainTasks, options.OodTasks);
            drawn = train.Select(t => (t, "train", (double?)null)).Concat(ood.Select(t => (t, "ood", (double?)null))).ToList();
        }
        var tasks = drawn
            .Select((p, i) => new ZooTask
            {
                Index = i, Split = p.Split, Classes = p.Task.Task.Classes, Names = p.Task.Task.Names, Kind = p.Task.Kind.ToString(),
                Seed = Seeds.Derive(options.Seed, i, 0x200), UnseenRatio = p.Unseen,
            }).ToList();
        return new ZooManifest
        {
            Dataset = data.Name, Arch = generic.Arch.ToName(), Recipe = options.Recipe, ClassesPerTask = options.ClassesPerTask, Seed = options.Seed,
            MinClassesPerTask = options.MinClassesPerTask is { } min && min != options.ClassesPerTask ? min : null,
            ParameterCount = ParameterLayout.For(generic.Arch, options.ClassesPerTask).Count,
            GenericModel = Path.GetFullPath(genericPath), GenericModelSha256 = ZooMerge.GenericModelHash(genericPath),
            FineTune = options.FineTune, Tasks = tasks, Slice = options.Slice?.ToString(), UnseenClasses = heldOut, Validation = validation,
        };
    }

    /// <summary>Whether two manifests describe the same zoo: dataset, architecture, seeds, class counts, recipe and task list.</summary>
    internal static bool SameSettings(ZooManifest a, ZooManifest b) =>
        a.Dataset == b.Dataset && a.Arch == b.Arch && a.Seed == b.Seed && a.ClassesPerTask == b.ClassesPerTask && a.MinClassesPerTask == b.MinClassesPerTask
        && a.FineTune == b.FineTune && a.Validation == b.Validation && a.Tasks.Count == b.Tasks.Count && (a.UnseenClasses ?? []).SequenceEqual(b.UnseenClasses ?? [])
        && a.Tasks.Zip(b.Tasks).All(p => p.First.Classes.SequenceEqual(p.Second.Classes) && p.First.Split == p.Second.Split && p.First.Seed == p.Second.Seed && p.First.UnseenRatio == p.Second.UnseenRatio);

    private static double MeanPAcc(ZooManifest m) => m.Shards.Count == 0 ? 0 : m.Shards.SelectMany(s => s.PAcc).Average();

    /// <summary>Every p-Model is stored in the zoo's largest layout (missing classifier rows zero; see <see cref="ZooReader"/>).</summary>
    private static void WriteShard(string path, IReadOnlyList<ZooTask> tasks, IReadOnlyList<FineTuned> results, ParameterLayout stored)
    {
        int p = stored.Count;
        var data = new float[results.Count * p];
        for (int i = 0; i < results.Count; i++)
            ParameterLayout.For(stored.Arch, results[i].Task.Count).Resize(results[i].Parameters, stored.NumClasses).CopyTo(data, i * p);
        var meta = new Dictionary<string, string>
        {
            ["format"] = "tina-zoo-shard-v1",
            ["tasks"] = JsonSerializer.Serialize(tasks.Select(t => new { t.Index, t.Names, t.Classes, t.Seed })),
            ["pacc"] = JsonSerializer.Serialize(results.Select(r => Math.Round(r.PAcc, 3))),
        };
        SafeTensors.Save(path, [new("parameters", new NamedTensor([results.Count, p], data))], meta);
    }
}
