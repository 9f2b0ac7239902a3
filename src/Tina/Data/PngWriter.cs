using SkiaSharp;

namespace Tina.Data;

/// <summary>Writes images of an <see cref="ImageSet"/> (32×32 CHW RGB bytes) as lossless PNG files (SkiaSharp, brought by ML.NET's ImageAnalytics).</summary>
public static class PngWriter
{
    /// <summary>Encodes <paramref name="chw"/> (3 planes of <paramref name="size"/>² bytes) as a PNG written atomically to <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<byte> chw, int size = 32)
    {
        int plane = size * size;
        if (chw.Length != 3 * plane) throw new ArgumentException($"Expected {3 * plane} bytes for a {size}×{size} RGB image, got {chw.Length}.");
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                bitmap.SetPixel(x, y, new SKColor(chw[i], chw[plane + i], chw[2 * plane + i]));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.AsSpan());
    }
}
