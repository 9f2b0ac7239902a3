namespace Tina.Data;

/// <summary>
/// Builds normalised float batches from an <see cref="ImageSet"/>, optionally with the standard CIFAR augmentation:
/// a random 32×32 crop of the image zero-padded by 4 pixels, and a random horizontal flip. Runs in plain C#
/// on bytes (cheap next to the network's forward pass) and is fully determined by the given <see cref="Random"/>.
/// </summary>
public static class Augmentation
{
    /// <summary>
    /// Fills a [n, 3, 32, 32] float buffer with the images at <paramref name="indices"/>, normalised as
    /// (x/255 − mean) / std. With <paramref name="rng"/> non-null each image is randomly cropped (pad 4) and flipped;
    /// padding pixels are 0 after normalisation (the dataset mean).
    /// </summary>
    public static float[] Batch(ImageSet set, ReadOnlySpan<int> indices, float[] mean, float[] std, Random? rng, int pad = 4)
    {
        const int S = 32, Plane = S * S;
        var output = new float[indices.Length * ImageSet.ImageBytes];
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
            var dst = output.AsSpan(k * ImageSet.ImageBytes, ImageSet.ImageBytes);
            for (int c = 0; c < 3; c++)
            {
                float scale = 1f / (255f * std[c]), shift = -mean[c] / std[c];
                var src = img.Slice(c * Plane, Plane);
                var d = dst.Slice(c * Plane, Plane);
                for (int y = 0; y < S; y++)
                {
                    int sy = y + dy;
                    for (int x = 0; x < S; x++)
                    {
                        int sx = (flip ? S - 1 - x : x) + dx;
                        d[y * S + x] = (uint)sy < S && (uint)sx < S ? src[sy * S + sx] * scale + shift : 0f;
                    }
                }
            }
        }
        return output;
    }
}
