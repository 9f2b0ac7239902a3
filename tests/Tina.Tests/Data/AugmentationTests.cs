using Tina.Data;
using Tina.PModels;

namespace Tina.Tests.Data;

public class AugmentationTests
{
    /// <summary>Random images of 4 classes: pixel values cover 0…255 so every table entry is exercised.</summary>
    private static ImageSet RandomSet(int n, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[n * ImageSet.ImageBytes];
        rng.NextBytes(pixels);
        return new ImageSet(pixels, Enumerable.Range(0, n).Select(i => i % 4).ToArray());
    }

    /// <summary>The definition: output (x, y) reads source ((flip ? 31 − x : x) + dx, y + dy), 0 outside the image.</summary>
    private static float[] Reference(ImageSet set, int[] indices, Random? rng, int pad)
    {
        var output = new float[indices.Length * ImageSet.ImageBytes];
        for (int k = 0; k < indices.Length; k++)
        {
            int dx = 0, dy = 0;
            bool flip = false;
            if (rng is not null) { dx = rng.Next(-pad, pad + 1); dy = rng.Next(-pad, pad + 1); flip = rng.Next(2) == 1; }
            var img = set.Image(indices[k]);
            for (int c = 0; c < 3; c++)
            {
                float scale = 1f / (255f * Normalization.Std[c]), shift = -Normalization.Mean[c] / Normalization.Std[c];
                for (int y = 0; y < 32; y++)
                    for (int x = 0; x < 32; x++)
                    {
                        int sy = y + dy, sx = (flip ? 31 - x : x) + dx;
                        output[k * ImageSet.ImageBytes + c * 1024 + y * 32 + x] =
                            sy is >= 0 and < 32 && sx is >= 0 and < 32 ? img[c * 1024 + sy * 32 + sx] * scale + shift : 0f;
                    }
            }
        }
        return output;
    }

    [Theory]
    [InlineData(4)]
    [InlineData(0)]
    [InlineData(12)] // wider than half the image: some rows and columns are all padding
    [InlineData(40)] // wider than the image: some images are all padding
    public void BatchEqualsThePerPixelDefinitionBitForBit(int pad)
    {
        var set = RandomSet(64, seed: pad);
        var indices = Enumerable.Range(0, 200).Select(i => (i * 37) % 64).ToArray();
        var expected = Reference(set, indices, new Random(5), pad);
        var actual = Augmentation.Batch(set, indices, Normalization.Mean, Normalization.Std, new Random(5), pad);
        Assert.Equal(expected, actual);
        Assert.Equal(Reference(set, indices, null, pad), Augmentation.Batch(set, indices, Normalization.Mean, Normalization.Std, null, pad));
    }

    [Fact]
    public void FillWritesOnlyItsImagesAndRefusesAShortBuffer()
    {
        var set = RandomSet(8, seed: 1);
        var buffer = new float[3 * ImageSet.ImageBytes];
        Array.Fill(buffer, 7f);
        Augmentation.Fill(buffer, set, [3, 5], Normalization.Mean, Normalization.Std, new Random(2));
        Assert.Equal(Augmentation.Batch(set, [3, 5], Normalization.Mean, Normalization.Std, new Random(2)), buffer[..(2 * ImageSet.ImageBytes)]);
        Assert.All(buffer[(2 * ImageSet.ImageBytes)..], v => Assert.Equal(7f, v));
        Assert.Throws<ArgumentException>(() => Augmentation.Fill(new float[10], set, [0], Normalization.Mean, Normalization.Std, null));
    }
}
