using System.Diagnostics;
using System.Text.Json;
using Tina.Data;
using Tina.Generic;
using Tina.PModels;
using Tina.Runtime;
using Tina.Tasks;
using Tina.Zoo;
using static TorchSharp.torch;

namespace Tina.Benchmarks;

/// <summary>What <see cref="ZooBenchmark"/> measures: which tasks, how long, in which group sizes and processes.</summary>
public sealed record ZooBenchmarkOptions
{
    /// <summary>Tasks fine-tuned per configuration.</summary>
    public int Tasks { get; init; } = 32;

    /// <summary>p-Models fine-tuned at once, one configuration each; the first is the reference of the comparisons.</summary>
    public IReadOnlyList<int> GroupSizes { get; init; } = [1, 8, 32];

    /// <summary>Fine-tuning epochs of every p-Model.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Fewest classes per task.</summary>
    public int MinClasses { get; init; } = 10;

    /// <summary>Most classes per task (tasks of mixed counts share groups).</summary>
    public int MaxClasses { get; init; } = 10;

    /// <summary>Processes that also fine-tune every group size together (1: in this process only).</summary>
    public int Processes { get; init; } = 1;
}

/// <summary>One configuration's measurement.</summary>
/// <param name="GroupSize">p-Models fine-tuned at once.</param>
/// <param name="Processes">Processes that fine-tuned the tasks together (1: this process alone).</param>
/// <param name="Seconds">Fine-tuning seconds (with several processes: the slowest one's).</param>
/// <param name="PModelsPerMinute">Tasks fine-tuned per minute.</param>
/// <param name="PercentOfFloor">That rate as a percentage of <see cref="ZooBenchmarkResult.FloorPModelsPerMinute"/>.</param>
/// <param name="MeanPAcc">Mean p-Acc (%) of the p-Models.</param>
/// <param name="MaxPAccDifference">Largest |Δ p-Acc| against the first configuration's p-Model of the same task.</param>
/// <param name="MaxWeightDifference">Largest |Δ weight| against the first configuration's p-Model of the same task.</param>
public sealed record ZooBenchmarkRow(int GroupSize, int Processes, double Seconds, double PModelsPerMinute, double PercentOfFloor,
    double MeanPAcc, double MaxPAccDifference, double MaxWeightDifference);

/// <summary>The measurements of <see cref="ZooBenchmark.Run"/> and the compute floor they are compared with.</summary>
/// <param name="Rows">One row per group size, followed (with several processes) by that size in processes.</param>
/// <param name="Tasks">Tasks fine-tuned per row.</param>
/// <param name="Epochs">Epochs per p-Model.</param>
/// <param name="FloorPModelsPerMinute">The compute floor: every image pass at the measured matrix-product speed.</param>
/// <param name="MatmulFlops">The measured matrix-product speed (FLOP/s).</param>
/// <param name="TrainingFlopsPerImage">Training FLOPs per image at <see cref="ZooBenchmarkOptions.MaxClasses"/> classes.</param>
/// <param name="MeanImagePasses">Mean image passes per p-Model.</param>
public sealed record ZooBenchmarkResult(IReadOnlyList<ZooBenchmarkRow> Rows, int Tasks, int Epochs, double FloorPModelsPerMinute, double MatmulFlops,
    double TrainingFlopsPerImage, double MeanImagePasses);

/// <summary>A p-Model fine-tuned by one process of a <see cref="ZooBenchmark"/> run in processes.</summary>
/// <param name="Index">Its task's index in <see cref="ZooBenchmark.Tasks"/>.</param>
/// <param name="PAcc">Its p-Acc (%).</param>
/// <param name="Parameters">Its flat parameters.</param>
public sealed record ZooBenchmarkModel(int Index, double PAcc, float[] Parameters);

/// <summary>What one process of a <see cref="ZooBenchmark"/> run in processes fine-tuned (<see cref="ZooBenchmark.RunSlice"/>).</summary>
/// <param name="Seconds">Its fine-tuning seconds.</param>
/// <param name="Models">Its p-Models.</param>
public sealed record ZooBenchmarkSlice(double Seconds, IReadOnlyList<ZooBenchmarkModel> Models)
{
    /// <summary>Writes the slice to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this));

    /// <summary>Reads a slice written by <see cref="Save"/>.</summary>
    /// <exception cref="CorruptFileException">The file is not a slice.</exception>
    public static ZooBenchmarkSlice Load(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<ZooBenchmarkSlice>(File.ReadAllText(path)) ?? throw new JsonException("empty file");
        }
        catch (JsonException e) { throw new CorruptFileException(path, e.Message, e); }
    }
}

/// <summary>
/// Fine-tunes the same tasks with different group sizes (and optionally in several processes): throughput against the
/// compute floor, mean p-Acc, and how close each configuration's p-Models are to the first one's. Creating it samples
/// the tasks, computes head features and warms up (one epoch of the first task), all outside every timing.
/// </summary>
public sealed class ZooBenchmark : IDisposable
{
    private readonly GenericModel _generic;
    private readonly ImageDataset _data;
    private readonly ZooBenchmarkOptions _options;
    private readonly FineTuneOptions _fineTune;
    private readonly Tensor? _trainFeatures, _testFeatures;

    /// <summary>Prepares the benchmark on <paramref name="data"/> from <paramref name="generic"/> (both stay the caller's).</summary>
    /// <exception cref="TinaException">An option is out of range.</exception>
    public ZooBenchmark(GenericModel generic, ImageDataset data, ZooBenchmarkOptions options, CancellationToken cancel = default)
    {
        _generic = generic ?? throw new ArgumentNullException(nameof(generic));
        _data = data ?? throw new ArgumentNullException(nameof(data));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Processes < 1) throw new TinaException($"--processes must be at least 1; got {options.Processes}.");
        if (options.GroupSizes.Count == 0 || options.GroupSizes.Any(s => s < 1)) throw new TinaException("Every group size must be at least 1.");
        Tasks = new TaskSampler(data, options.MinClasses, options.MaxClasses, seed: 99).Draw(options.Tasks).Select((t, i) => (t.Task, Seed: 1000 + i)).ToList();
        _fineTune = new FineTuneOptions { Epochs = options.Epochs };
        if (generic.Arch.IsHeadOnly()) (_trainFeatures, _testFeatures) = FineTuner.HeadFeatures(generic, data, 0);
        // The warm-up (JIT, first-touch allocations): one epoch of the first task.
        using var warm = Tuner(1, epochs: 1);
        warm.Train([Tasks[0]], cancel);
    }

    /// <summary>The sampled tasks and their seeds, in the order every configuration fine-tunes them.</summary>
    public IReadOnlyList<(PersonalizationTask Task, int Seed)> Tasks { get; }

    private FineTuner Tuner(int groupSize, int? epochs = null) =>
        new(_generic, _data, _fineTune with { ModelsPerGroup = groupSize, Epochs = epochs ?? _fineTune.Epochs },
            _trainFeatures is null ? null : (_trainFeatures, _testFeatures!));

    /// <summary>
    /// Times every group size in this process and, with <see cref="ZooBenchmarkOptions.Processes"/> above 1, in that many
    /// processes: <paramref name="inProcesses"/> (needed then) gets a group size, runs
    /// <see cref="RunSlice"/> of every slice I/N in its own process, all started together, and returns their slices.
    /// </summary>
    /// <exception cref="TinaException">The processes did not fine-tune every task.</exception>
    public ZooBenchmarkResult Run(Func<int, IReadOnlyList<ZooBenchmarkSlice>>? inProcesses = null, CancellationToken cancel = default)
    {
        int n = _options.Processes;
        if (n > 1 && inProcesses is null) throw new ArgumentNullException(nameof(inProcesses), "Several processes need a way to start them.");
        // The floor: every p-Model's image passes (epochs × whole batches) at the measured matrix-product speed.
        double flops = ComputeFloor.MeasureMatmulFlops(TimeSpan.FromSeconds(2));
        var passes = Tasks.Select(s => (s.Task.Count, (long)_fineTune.Epochs * (_data.Train.IndicesOf(s.Task.Classes.ToHashSet()).Length / _fineTune.BatchSize) * _fineTune.BatchSize)).ToList();
        double floor = ComputeFloor.PModelsPerMinute(flops, _generic.Arch, passes);
        var rows = new List<ZooBenchmarkRow>();
        List<FineTuned>? reference = null;
        foreach (var size in _options.GroupSizes)
        {
            using var tuner = Tuner(size);
            var sw = Stopwatch.StartNew();
            var results = new List<FineTuned>();
            for (int i = 0; i < Tasks.Count; i += size)
                results.AddRange(tuner.Train(Tasks.Skip(i).Take(size).ToList(), cancel));
            sw.Stop();
            reference ??= results;
            rows.Add(Row(size, 1, sw.Elapsed.TotalSeconds, results, reference, floor));
            if (n == 1) continue;
            var (seconds, inN) = Merge(inProcesses!(size));
            rows.Add(Row(size, n, seconds, inN, reference, floor));
        }
        return new ZooBenchmarkResult(rows, Tasks.Count, _fineTune.Epochs, floor, flops, ComputeFloor.TrainingFlopsPerImage(_generic.Arch, _options.MaxClasses),
            passes.Average(p => p.Item2));
    }

    private ZooBenchmarkRow Row(int size, int processes, double seconds, List<FineTuned> results, List<FineTuned> reference, double floor)
    {
        double rate = Tasks.Count / (seconds / 60);
        double dAcc = results.Zip(reference).Max(p => Math.Abs(p.First.PAcc - p.Second.PAcc));
        double dW = results.Zip(reference).Max(p => p.First.Parameters.Zip(p.Second.Parameters).Max(q => Math.Abs(q.First - q.Second)));
        return new ZooBenchmarkRow(size, processes, seconds, rate, 100 * rate / floor, results.Average(x => x.PAcc), dAcc, dW);
    }

    /// <summary>The slowest slice's seconds and every p-Model in task order.</summary>
    private (double Seconds, List<FineTuned> Results) Merge(IReadOnlyList<ZooBenchmarkSlice> slices)
    {
        var byIndex = new FineTuned?[Tasks.Count];
        double seconds = 0;
        foreach (var slice in slices)
        {
            seconds = Math.Max(seconds, slice.Seconds);
            foreach (var m in slice.Models)
            {
                if (m.Index < 0 || m.Index >= Tasks.Count) throw new TinaException($"A bench process reported task {m.Index} of {Tasks.Count}.");
                byIndex[m.Index] = new FineTuned(Tasks[m.Index].Task, Tasks[m.Index].Seed, m.Parameters, m.PAcc);
            }
        }
        if (byIndex.Any(x => x is null)) throw new TinaException("The bench processes did not fine-tune every task.");
        return (seconds, byIndex.Select(x => x!).ToList());
    }

    /// <summary>
    /// One process's share of a run in processes: calls <paramref name="startTogether"/> (which returns when every process
    /// is ready), then fine-tunes task groups I, I+N, … of the first group size and times them.
    /// </summary>
    public ZooBenchmarkSlice RunSlice(ZooSlice slice, Action? startTogether = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(slice);
        int size = _options.GroupSizes[0];
        using var tuner = Tuner(size);
        startTogether?.Invoke();
        var sw = Stopwatch.StartNew();
        var models = new List<ZooBenchmarkModel>();
        for (int g = slice.Index; g * size < Tasks.Count; g += slice.Count)
        {
            var results = tuner.Train(Tasks.Skip(g * size).Take(size).ToList(), cancel);
            models.AddRange(results.Select((f, k) => new ZooBenchmarkModel(g * size + k, f.PAcc, f.Parameters)));
        }
        return new ZooBenchmarkSlice(sw.Elapsed.TotalSeconds, models);
    }

    /// <summary>Frees the head features.</summary>
    public void Dispose()
    {
        _trainFeatures?.Dispose();
        _testFeatures?.Dispose();
    }
}
