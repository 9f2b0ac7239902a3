using System.Buffers.Binary;
using SkiaSharp;
using Tina.Data;

namespace Tina.Tests.MLNet;

/// <summary>
/// Images for the size limits: large "photos" made from real CIFAR-100 test images (upscaled with a cubic filter and
/// given seeded sensor-like noise, so that they encode to megabytes as camera photos do), small images in every
/// format, and decompression bombs (tiny files whose headers declare huge images).
/// </summary>
internal static class TestPhotos
{
    /// <summary>A real CIFAR-100 test image of <paramref name="className"/> (32×32 CHW bytes) and its class name.</summary>
    public static byte[] Cifar(string className, int nth = 0)
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 3);
        int c = data.ClassNames.ToList().IndexOf(className);
        Assert.True(c >= 0, $"{className} is not among the first 12 CIFAR-100 classes");
        return data.Test.Image(data.Test.IndicesOf(new HashSet<int> { c })[nth]).ToArray();
    }

    /// <summary>
    /// <paramref name="chw"/> (a 32×32 CHW image) upscaled to <paramref name="width"/>×<paramref name="height"/> (the
    /// aspect ratio is not kept: the centre of an odd-shaped photo is still the object), with noise of ±<paramref name="noise"/>
    /// levels, encoded as <paramref name="format"/>.
    /// </summary>
    public static byte[] Upscaled(byte[] chw, int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg, int quality = 95, int noise = 10, int seed = 1)
    {
        using var small = ToBitmap(chw);
        using var large = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(large))
        using (var image = SKImage.FromBitmap(small))
            canvas.DrawImage(image, new SKRect(0, 0, width, height), new SKSamplingOptions(SKCubicResampler.Mitchell));
        if (noise > 0)
        {
            var pixels = large.GetPixelSpan();
            var random = new Random(seed);
            for (int i = 0; i < pixels.Length; i++)
            {
                if ((i & 3) == 3) continue; // alpha
                pixels[i] = (byte)Math.Clamp(pixels[i] + random.Next(-noise, noise + 1), 0, 255);
            }
        }
        return format == SKEncodedImageFormat.Bmp ? Bmp(large) : Encode(large, format, quality);
    }

    /// <summary>A PNG whose header declares <paramref name="width"/>×<paramref name="height"/> pixels: a real small PNG with its IHDR patched (and its CRC recomputed). A few hundred bytes.</summary>
    public static byte[] PngBomb(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 48, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Gray);
        var png = Encode(bitmap, SKEncodedImageFormat.Png, 100);
        // 8-byte signature, then the IHDR chunk: length (4), "IHDR" (4), width (4), height (4), 5 more bytes, CRC over type + data.
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), width);
        BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(29), Crc32(png.AsSpan(12, 17)));
        return png;
    }

    /// <summary>A JPEG whose frame header (SOF0) declares <paramref name="width"/>×<paramref name="height"/> pixels (at most 65,535 each).</summary>
    public static byte[] JpegBomb(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(64, 48, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Gray);
        var jpeg = Encode(bitmap, SKEncodedImageFormat.Jpeg, 90);
        int sof = -1;
        for (int i = 2; i + 9 < jpeg.Length; i++)
            if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) { sof = i; break; }
        Assert.True(sof > 0, "no SOF0 marker in Skia's JPEG");
        // FF C0, length (2), precision (1), height (2), width (2).
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), checked((ushort)height));
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), checked((ushort)width));
        return jpeg;
    }

    /// <summary>A 24-bit BMP whose header declares <paramref name="width"/>×<paramref name="height"/> pixels but holds one row of pixel data.</summary>
    public static byte[] BmpBomb(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(8, 1, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(SKColors.Gray);
        var bmp = Bmp(bitmap);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        return bmp;
    }

    /// <summary>Encodes <paramref name="bitmap"/> as an uncompressed 24-bit BMP (written here: Skia encodes no BMP).</summary>
    public static byte[] Bmp(SKBitmap bitmap)
    {
        int w = bitmap.Width, h = bitmap.Height, stride = (w * 3 + 3) & ~3;
        var bmp = new byte[54 + stride * h];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), w);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), h); // positive: rows bottom-up
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), stride * h);
        for (int y = 0; y < h; y++)
        {
            int row = 54 + (h - 1 - y) * stride;
            for (int x = 0; x < w; x++)
            {
                var c = bitmap.GetPixel(x, y);
                bmp[row + 3 * x] = c.Blue;
                bmp[row + 3 * x + 1] = c.Green;
                bmp[row + 3 * x + 2] = c.Red;
            }
        }
        return bmp;
    }

    private static SKBitmap ToBitmap(byte[] chw)
    {
        const int size = ImageDecoder.Size, plane = size * size;
        var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                bitmap.SetPixel(x, y, new SKColor(chw[y * size + x], chw[plane + y * size + x], chw[2 * plane + y * size + x]));
        return bitmap;
    }

    private static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using var data = bitmap.Encode(format, quality) ?? throw new InvalidOperationException($"SkiaSharp cannot encode {format}");
        return data.ToArray();
    }

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
