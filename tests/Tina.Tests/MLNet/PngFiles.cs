using SkiaSharp;

namespace Tina.Tests.MLNet;

/// <summary>Writes 32×32 CHW RGB bytes (the layout of <see cref="Tina.Data.ImageSet"/>) as lossless PNG files with SkiaSharp.</summary>
internal static class PngFiles
{
    /// <summary>Encodes <paramref name="chw"/> (3 planes of <paramref name="size"/>² bytes) to a PNG at <paramref name="path"/>.</summary>
    public static void Write(string path, ReadOnlySpan<byte> chw, int size = 32)
    {
        int plane = size * size;
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                bitmap.SetPixel(x, y, new SKColor(chw[i], chw[plane + i], chw[2 * plane + i]));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }
}
