using System.Diagnostics;
using Tina.Diffusion;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Zoo;

namespace Tina.MLNet.Generation.Benchmarks;

/// <summary>What <see cref="GenerationBenchmark"/> times.</summary>
public sealed record GenerationBenchmarkOptions
{
    /// <summary>DDIM step counts, one row each (per output format).</summary>
    public IReadOnlyList<int> DdimSteps { get; init; } = [50];

    /// <summary>Timed DDIM runs per row, after one untimed warm-up run.</summary>
    public int DdimRuns { get; init; } = 20;

    /// <summary>Timed DDPM-1000 runs (0: no DDPM row).</summary>
    public int DdpmRuns { get; init; } = 1;

    /// <summary>Seed-ensemble size K.</summary>
    public int EnsembleSize { get; init; } = 1;
}

/// <summary>One sampler and output format's timings.</summary>
/// <param name="Sampler">The sampler.</param>
/// <param name="Steps">Its denoising steps.</param>
/// <param name="Format">The exported classifier's format.</param>
/// <param name="Runs">Timed runs.</param>
/// <param name="P50Milliseconds">Median prompt → ONNX bytes time.</param>
/// <param name="P90Milliseconds">90th percentile of that time.</param>
/// <param name="FloorMilliseconds">The transformer's forward passes alone at the measured matrix-product speed.</param>
/// <param name="OnnxBytes">Size of the exported ONNX model.</param>
public sealed record GenerationBenchmarkRow(DiffusionSampler Sampler, int Steps, ClassifierFormat Format, int Runs,
    double P50Milliseconds, double P90Milliseconds, double FloorMilliseconds, int OnnxBytes);

/// <summary>The timings of <see cref="GenerationBenchmark.Run"/> and their floor.</summary>
/// <param name="Rows">Per DDIM step count then DDPM, one row per format (resnet18: the head alone, then the one-file classifier).</param>
/// <param name="StepFlops">FLOPs of one denoising step (the K members in one batch).</param>
/// <param name="MatmulFlops">The measured matrix-product speed (FLOP/s).</param>
public sealed record GenerationBenchmarkResult(IReadOnlyList<GenerationBenchmarkRow> Rows, double StepFlops, double MatmulFlops);

/// <summary>
/// Times prompt → ONNX bytes (<see cref="TinaGeneratedClassifier.Generate(TinaGenerator, IReadOnlyList{string}, GenerateOptions?, ClassifierFormat)"/>)
/// with a trained generator: p50/p90 milliseconds per sampler and output format, against the compute floor of the
/// transformer's forward passes (sampling noise, token coders and the export come on top of it).
/// </summary>
public static class GenerationBenchmark
{
    /// <summary>Times <paramref name="generator"/> on <paramref name="classes"/>; run i uses seed i.</summary>
    /// <exception cref="TinaException">The ensemble size or a step count is out of range.</exception>
    public static GenerationBenchmarkResult Run(TinaGenerator generator, IReadOnlyList<string> classes, GenerationBenchmarkOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(options);
        int k = options.EnsembleSize;
        if (k is < 1 or > PModelEnsemble.MaxMembers) throw new TinaException($"--ensemble must be 1 to {PModelEnsemble.MaxMembers}; got {k}.");
        if (options.DdimSteps.Any(s => s < 1)) throw new TinaException("Every DDIM step count must be at least 1.");
        // The floor: every denoising step's transformer forward pass (K ensemble members in one batch) at the
        // measured matrix-product speed.
        double flops = ComputeFloor.MeasureMatmulFlops(TimeSpan.FromSeconds(1));
        double stepFlops = k * generator.State.Config.ForwardFlops(generator.SequenceLength);
        var formats = generator.Arch == PModelArch.ResNet18 ? new[] { ClassifierFormat.Head, ClassifierFormat.OneFile } : [ClassifierFormat.OneFile];
        var rows = new List<GenerationBenchmarkRow>();
        void Measure(GenerateOptions o, int n, bool warmUp)
        {
            if (n <= 0) return;
            foreach (var format in formats)
            {
                int bytes = 0;
                if (warmUp) bytes = TinaGeneratedClassifier.Generate(generator, classes, o, format).Onnx.Length;
                var times = new List<double>();
                for (int i = 0; i < n; i++)
                {
                    cancel.ThrowIfCancellationRequested();
                    var sw = Stopwatch.StartNew();
                    bytes = TinaGeneratedClassifier.Generate(generator, classes, o with { Seed = i }, format).Onnx.Length;
                    times.Add(sw.Elapsed.TotalMilliseconds);
                }
                rows.Add(new GenerationBenchmarkRow(o.Sampler, o.ResolvedSteps, format, n, Percentile(times, 0.5), Percentile(times, 0.9),
                    1000 * o.ResolvedSteps * stepFlops / flops, bytes));
            }
        }
        foreach (var steps in options.DdimSteps)
            Measure(new GenerateOptions { Sampler = DiffusionSampler.Ddim, Steps = steps, EnsembleSize = k }, options.DdimRuns, warmUp: true);
        Measure(new GenerateOptions { Sampler = DiffusionSampler.Ddpm, Steps = 1000, EnsembleSize = k }, options.DdpmRuns, warmUp: false);
        return new GenerationBenchmarkResult(rows, stepFlops, flops);
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile of <paramref name="values"/> by the nearest-rank method: the smallest value with at
    /// least a share <paramref name="q"/> of the values at or below it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> is empty.</exception>
    public static double Percentile(IReadOnlyCollection<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
