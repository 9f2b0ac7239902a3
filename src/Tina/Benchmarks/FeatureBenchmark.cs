using System.Diagnostics;
using Tina.Data;
using Tina.Features;
using Tina.MLNet;
using Tina.Runtime;
using static TorchSharp.torch;

namespace Tina.Benchmarks;

/// <summary>What <see cref="FeatureBenchmark"/> measures.</summary>
public sealed record FeatureBenchmarkOptions
{
    /// <summary>Test images timed per input size (after a warm-up batch).</summary>
    public int Images { get; init; } = 512;

    /// <summary>Backbone input sizes, one row each.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [ResNet18Backbone.ImageSize];

    /// <summary>Also fit a linear head per size and score it on a validation split carved from the training images.</summary>
    public bool Accuracy { get; init; }

    /// <summary>With <see cref="Accuracy"/>: training images per class.</summary>
    public int TrainPerClass { get; init; } = 100;

    /// <summary>With <see cref="Accuracy"/>: validation images per class (the training split's next ones).</summary>
    public int ValidationPerClass { get; init; } = 50;

    /// <summary>ONNX Runtime threads (0: the runtime's choice).</summary>
    public int Threads { get; init; }
}

/// <summary>One input size's measurement.</summary>
/// <param name="InputSize">Backbone input side in pixels.</param>
/// <param name="FlopsPerImage">The backbone's FLOPs per image at that size.</param>
/// <param name="ImagesPerSecond">Measured images per second.</param>
/// <param name="FloorImagesPerSecond">Images per second at the measured matrix-product speed.</param>
/// <param name="ValidationTop1">With accuracy: the linear head's top-1 (%) on the validation images.</param>
/// <param name="ValidationPAcc">With accuracy: its classifier-selection p-Acc (%) on 300 random lists of 2–10 classes.</param>
public sealed record FeatureBenchmarkRow(int InputSize, double FlopsPerImage, double ImagesPerSecond, double FloorImagesPerSecond,
    double? ValidationTop1, double? ValidationPAcc)
{
    /// <summary>Milliseconds per image.</summary>
    public double MillisecondsPerImage => 1000 / ImagesPerSecond;

    /// <summary>Measured time as a multiple of the floor's.</summary>
    public double TimesFloor => FloorImagesPerSecond / ImagesPerSecond;
}

/// <summary>The measurements of <see cref="FeatureBenchmark.Run"/>.</summary>
/// <param name="Rows">One row per input size.</param>
/// <param name="BackboneFlops">The backbone's FLOPs per 224-pixel image (from the graph's shapes).</param>
/// <param name="MatmulFlops">The measured matrix-product speed in ONNX Runtime (FLOP/s).</param>
/// <param name="Threads">ONNX Runtime threads.</param>
/// <param name="TrainImages">With accuracy: the linear heads' training images (0 without).</param>
/// <param name="ValidationImages">With accuracy: their validation images (0 without).</param>
public sealed record FeatureBenchmarkResult(IReadOnlyList<FeatureBenchmarkRow> Rows, double BackboneFlops, double MatmulFlops, int Threads,
    int TrainImages, int ValidationImages);

/// <summary>
/// ResNet-18 feature extraction in ONNX Runtime: images per second against the floor (the backbone's operations at the
/// measured matrix-product speed) per backbone input size; optionally what a linear head on each size's features
/// scores on a validation split carved from the training images (how the input size was chosen).
/// </summary>
public static class FeatureBenchmark
{
    /// <summary>Measures <paramref name="data"/>'s test images with <paramref name="backbone"/>.</summary>
    /// <exception cref="TinaException">An option is out of range.</exception>
    public static FeatureBenchmarkResult Run(ResNet18Backbone backbone, ImageDataset data, FeatureBenchmarkOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Images < 1) throw new TinaException("--images must be at least 1.");
        int threads = options.Threads;
        // The peak: large float matrix products in ONNX Runtime, whose kernels run the convolutions too.
        double flops = BackboneFeatureExtractor.MeasureMatmulFlops(TimeSpan.FromSeconds(2), threads);
        var timed = Enumerable.Range(0, Math.Min(options.Images, data.Test.Count)).ToArray();
        var timedPixels = Pixels(data.Test, timed);
        var split = options.Accuracy ? Split(data, options.TrainPerClass, options.ValidationPerClass) : ((int[] Train, int[] Val)?)null;
        var rows = new List<FeatureBenchmarkRow>();
        int warm = Math.Min(timed.Length, BackboneFeatureExtractor.BatchSize);
        foreach (var side in options.Sizes)
        {
            cancel.ThrowIfCancellationRequested();
            using var extractor = new BackboneFeatureExtractor(backbone, PModels.Normalization.ImageSize, threads, side);
            extractor.Run(timedPixels.AsMemory(0, warm * 3072), warm, cancel);
            var sw = Stopwatch.StartNew();
            extractor.Run(timedPixels, timed.Length, cancel);
            double rate = timed.Length / sw.Elapsed.TotalSeconds;
            double perImage = backbone.ForwardFlops * side * side / (224.0 * 224.0);
            double? top1 = null, pacc = null;
            if (split is { } sp)
                (top1, pacc) = LinearProbe(extractor.Run(Pixels(data.Train, sp.Train), sp.Train.Length, cancel), sp.Train.Select(i => data.Train.Labels[i]).ToArray(),
                    extractor.Run(Pixels(data.Train, sp.Val), sp.Val.Length, cancel), sp.Val.Select(i => data.Train.Labels[i]).ToArray(), data.NumClasses);
            rows.Add(new FeatureBenchmarkRow(side, perImage, rate, flops / perImage, top1, pacc));
        }
        return new FeatureBenchmarkResult(rows, backbone.ForwardFlops, flops, threads, split?.Train.Length ?? 0, split?.Val.Length ?? 0);
    }

    private static float[] Pixels(ImageSet set, IReadOnlyList<int> idx) => Augmentation.Batch(set, idx.ToArray(), [0f, 0f, 0f], [1f, 1f, 1f], null);

    /// <summary>The first <paramref name="trainPer"/> training images of every class, and the next <paramref name="valPer"/>.</summary>
    private static (int[] Train, int[] Val) Split(ImageDataset data, int trainPer, int valPer)
    {
        var seen = new int[data.NumClasses];
        var train = new List<int>();
        var val = new List<int>();
        for (int i = 0; i < data.Train.Count; i++)
        {
            int c = data.Train.Labels[i], k = seen[c]++;
            if (k < trainPer) train.Add(i);
            else if (k < trainPer + valPer) val.Add(i);
        }
        return (train.ToArray(), val.ToArray());
    }

    /// <summary>Top-1 and classifier-selection p-Acc of a linear softmax head fitted on <paramref name="train"/> features, scored on <paramref name="val"/>.</summary>
    private static (double Top1, double PAcc) LinearProbe(float[] train, int[] trainLabels, float[] val, int[] valLabels, int classes)
    {
        using var scope = NewDisposeScope();
        int d = train.Length / trainLabels.Length;
        var x = tensor(train, [trainLabels.Length, d]);
        var y = tensor(trainLabels.Select(l => (long)l).ToArray());
        using var head = Seeds.WithGlobalSeed(0, () => nn.Linear(d, classes));
        using var opt = new Runtime.Optim.AdamW(head.parameters(), 0.01, 1e-4);
        for (int step = 0; step < 300; step++)
        {
            using var stepScope = NewDisposeScope();
            var loss = nn.functional.cross_entropy(head.forward(x), y);
            opt.ZeroGrad();
            loss.backward();
            opt.Step();
        }
        using var noGrad = no_grad();
        var logits = head.forward(tensor(val, [valLabels.Length, d])).data<float>().ToArray();
        int correct = 0;
        for (int i = 0; i < valLabels.Length; i++)
            if (Enumerable.Range(0, classes).MaxBy(c => logits[i * classes + c]) == valLabels[i]) correct++;
        var rng = new Random(0);
        var all = Enumerable.Range(0, classes).ToArray();
        double pacc = 0;
        for (int t = 0; t < 300; t++)
        {
            rng.Shuffle(all);
            var list = all[..(2 + rng.Next(9))];
            int hit = 0, count = 0;
            for (int i = 0; i < valLabels.Length; i++)
            {
                int pos = Array.IndexOf(list, valLabels[i]);
                if (pos < 0) continue;
                count++;
                if (Enumerable.Range(0, list.Length).MaxBy(j => logits[i * classes + list[j]]) == pos) hit++;
            }
            pacc += 100.0 * hit / count;
        }
        return (100.0 * correct / valLabels.Length, pacc / 300);
    }
}
