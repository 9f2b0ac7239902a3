using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Tina.Data;

/// <summary>
/// Builds normalised float batches from an <see cref="ImageSet"/>, optionally with the standard CIFAR augmentation:
/// a random 32×32 crop of the image zero-padded by 4 pixels, and a random horizontal flip. Runs in plain C# on bytes,
/// fully determined by the given <see cref="Random"/>.
/// </summary>
/// <remarks>
/// Stage 2 fine-tunes 8 CNN-5K p-Models on 64 images each per step, so this runs for 512 images per step; a
/// per-pixel loop with bounds tests cost more than the networks' forward and backward passes together. Each channel
/// therefore maps bytes through a 256-entry table (the same float expression, so the values are bit-identical) and
/// each row copies its in-bounds run in one pass, zero-filling the padding. <see cref="ToTensor(ImageSet, ReadOnlySpan{int}, float[], float[], Random?, int)"/>
/// writes straight into a native tensor: a managed float[] per batch costs a large-object allocation, and
/// TorchSharp's <c>tensor(float[])</c> clones it into a second one, which together took longer than the augmentation.
/// </remarks>
public static class Augmentation
{
    private const int S = 32, Plane = S * S;

    /// <summary>
    /// Returns a [n, 3, 32, 32] float buffer with the images at <paramref name="indices"/>, normalised as
    /// (x/255 − mean) / std. With <paramref name="rng"/> non-null each image is randomly cropped (pad 4) and flipped;
    /// padding pixels are 0 after normalisation (the dataset mean).
    /// </summary>
    public static float[] Batch(ImageSet set, ReadOnlySpan<int> indices, float[] mean, float[] std, Random? rng, int pad = 4)
    {
        var output = new float[indices.Length * ImageSet.ImageBytes];
        Fill(output, set, indices, mean, std, rng, pad);
        return output;
    }

    /// <summary>
    /// <see cref="Batch"/> as a new CPU tensor [n, 3, 32, 32], written in place (same values, same draws from
    /// <paramref name="rng"/>).
    /// </summary>
    public static Tensor ToTensor(ImageSet set, ReadOnlySpan<int> indices, float[] mean, float[] std, Random? rng, int pad = 4)
    {
        var t = empty([indices.Length, 3, 32, 32]);
        Fill(Floats(t), set, indices, mean, std, rng, pad);
        return t;
    }

    /// <summary>
    /// Groups of images as one CPU tensor [M, B, 3, 32, 32]: group k holds the images at <paramref name="groups"/>[k]
    /// (all groups of equal size B), augmented with <paramref name="rngs"/>[k] when <paramref name="rngs"/> is given,
    /// drawn in group order. A null group is left as zeros and draws nothing.
    /// </summary>
    public static Tensor ToTensor(ImageSet set, IReadOnlyList<int[]?> groups, float[] mean, float[] std, IReadOnlyList<Random>? rngs, int pad = 4)
    {
        int m = groups.Count;
        int b = groups.FirstOrDefault(g => g is not null)?.Length ?? throw new ArgumentException("At least one group must hold images.", nameof(groups));
        if (groups.Any(g => g is not null && g.Length != b)) throw new ArgumentException("Every group must hold the same number of images.", nameof(groups));
        if (rngs is not null && rngs.Count != m) throw new ArgumentException($"{rngs.Count} random generators for {m} groups.", nameof(rngs));
        var t = empty([m, b, 3, 32, 32]);
        var all = Floats(t);
        for (int k = 0; k < m; k++)
        {
            var slice = all.Slice(k * b * ImageSet.ImageBytes, b * ImageSet.ImageBytes);
            if (groups[k] is { } g) Fill(slice, set, g, mean, std, rngs?[k], pad);
            else slice.Clear();
        }
        return t;
    }

    /// <summary>The float elements of a new contiguous CPU tensor, as a span over its native memory.</summary>
    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    /// <summary>
    /// <see cref="Batch"/> into <paramref name="output"/> (at least n · 3 · 32 · 32 floats), with the same draws from
    /// <paramref name="rng"/> in the same order (dx, dy, flip per image), so both give the same values.
    /// </summary>
    public static void Fill(Span<float> output, ImageSet set, ReadOnlySpan<int> indices, float[] mean, float[] std, Random? rng, int pad = 4)
    {
        if (output.Length < indices.Length * ImageSet.ImageBytes)
            throw new ArgumentException($"The output holds {output.Length} floats; {indices.Length} images need {indices.Length * ImageSet.ImageBytes}.", nameof(output));
        Span<float> table = stackalloc float[3 * 256];
        for (int c = 0; c < 3; c++)
        {
            float scale = 1f / (255f * std[c]), shift = -mean[c] / std[c];
            for (int v = 0; v < 256; v++) table[c * 256 + v] = v * scale + shift;
        }
        for (int k = 0; k < indices.Length; k++)
        {
            var img = set.Image(indices[k]);
            int dx = 0, dy = 0;
            bool flip = false;
            if (rng is not null)
            {
                dx = rng.Next(-pad, pad + 1);
                dy = rng.Next(-pad, pad + 1);
                flip = rng.Next(2) == 1;
            }
            // Output column x reads source column (flip ? 31 − x : x) + dx; [x0, x1) are the columns inside the image.
            int x0 = flip ? Math.Max(0, dx) : Math.Max(0, -dx);
            int x1 = flip ? Math.Min(S, S + dx) : Math.Min(S, S - dx);
            var dst = output.Slice(k * ImageSet.ImageBytes, ImageSet.ImageBytes);
            for (int c = 0; c < 3; c++)
            {
                var lut = table.Slice(c * 256, 256);
                var src = img.Slice(c * Plane, Plane);
                for (int y = 0; y < S; y++)
                {
                    var d = dst.Slice(c * Plane + y * S, S);
                    int sy = y + dy;
                    if ((uint)sy >= S || x0 >= x1) { d.Clear(); continue; }
                    d[..x0].Clear();
                    d[x1..].Clear();
                    var row = src.Slice(sy * S, S);
                    if (flip)
                        for (int x = x0; x < x1; x++) d[x] = lut[row[S - 1 - x + dx]];
                    else
                        for (int x = x0; x < x1; x++) d[x] = lut[row[x + dx]];
                }
            }
        }
    }
}
