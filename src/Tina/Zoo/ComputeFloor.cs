using System.Diagnostics;
using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Zoo;

/// <summary>
/// The compute floor of stage 2: how many p-Models per minute a machine could fine-tune if every floating-point
/// operation ran at the speed of its own large float matrix product. No implementation reaches it (small
/// convolutions, data preparation and optimizer steps run slower); <c>tina bench zoo</c> prints it beside the
/// measured rate so the gap is visible.
/// </summary>
public static class ComputeFloor
{
    /// <summary>
    /// Floating-point operations of one forward pass of the fine-tuned part for one image: all of CNN-5K (conv 3→16
    /// 3×3 stride 2 and conv 16→32 3×3 on a 16×16 map, then the C×32 classifier), or a head (ResNet-20's 64→C, ResNet-18's 512→C) on
    /// cached features.
    /// </summary>
    public static double ForwardFlops(PModelArch arch, int classes) => arch switch
    {
        PModelArch.Cnn5k => 2.0 * (16 * 16 * 16 * 27 + 16 * 16 * 32 * 144 + 32 * classes),
        PModelArch.ResNet20 or PModelArch.ResNet18 => 2.0 * arch.FeatureDim() * classes,
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>
    /// Floating-point operations to train on one image: three forward passes' worth (the forward pass, and a backward
    /// pass that computes both the weight and the input gradients, each about as costly as the forward pass). For
    /// CNN-5K with 10 classes ≈ 7.7 MFLOP.
    /// </summary>
    public static double TrainingFlopsPerImage(PModelArch arch, int classes) => 3 * ForwardFlops(arch, classes);

    /// <summary>
    /// Measures float matrix-product speed (FLOP/s) with the current intra-op threads: 512×512 by 512×512 products
    /// repeated for about <paramref name="duration"/> after a warm-up.
    /// </summary>
    public static double MeasureMatmulFlops(TimeSpan duration)
    {
        const int n = 512;
        using var _ = no_grad();
        using var gen = new Generator(0UL, CPU);
        using var a = rand([n, n], generator: gen);
        using var b = rand([n, n], generator: gen);
        for (int i = 0; i < 3; i++) { using var w = a.mm(b); }
        var sw = Stopwatch.StartNew();
        long count = 0;
        while (sw.Elapsed < duration) { using var c = a.mm(b); count++; }
        return count * 2.0 * n * n * n / sw.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// p-Models per minute at <paramref name="flopsPerSecond"/> for <paramref name="pModels"/>, each given as its class
    /// count and the images it trains on in all (epochs × images per epoch).
    /// </summary>
    public static double PModelsPerMinute(double flopsPerSecond, PModelArch arch, IReadOnlyList<(int Classes, long ImagePasses)> pModels) =>
        pModels.Count * 60.0 * flopsPerSecond / pModels.Sum(p => p.ImagePasses * TrainingFlopsPerImage(arch, p.Classes));
}
