using System.Collections.Concurrent;
using Microsoft.ML.Data;

namespace Tina.Data;

/// <summary>
/// Turns encoded images (JPEG, PNG, BMP, GIF, WebP: whatever ML.NET's <see cref="MLImage"/>, i.e. SkiaSharp, decodes)
/// into 32×32 RGB images in <see cref="ImageSet"/>'s CHW byte layout (R plane, G plane, B plane; rows top to bottom).
/// </summary>
/// <remarks>
/// Every image is resized to exactly 32×32 without cropping or padding (the aspect ratio is not kept), as in the paper.
/// The resize is done here in managed code, not by Skia, so that it is the same on every platform: a separable
/// triangle ("bilinear") filter whose support widens with the downscale factor, which is the antialiased bilinear
/// filter of Pillow's <c>Image.resize</c> that torchvision's <c>Resize</c> applies to PIL images (intermediate values
/// are kept in float, so results may differ from Pillow's fixed-point output by ±1). A 32×32 input is copied
/// unchanged. Grayscale images become three equal channels; transparent pixels come out premultiplied (over black).
/// </remarks>
public static class ImageDecoder
{
    /// <summary>Side of the output images in pixels.</summary>
    public const int Size = 32;

    /// <summary>Decodes <paramref name="encoded"/> and returns its 3,072 CHW bytes at 32×32.</summary>
    /// <exception cref="InvalidDataException">The bytes are not an image Skia can decode.</exception>
    /// <exception cref="ImageTooLargeException">The image is over <see cref="Tina.MLNet.TinaImageLimits.Default"/> (20 MB, or a header that declares more than 40 megapixels or a side over 20,000 pixels); refused before decoding.</exception>
    public static byte[] Decode(byte[] encoded)
    {
        var chw = new byte[ImageSet.ImageBytes];
        DecodeInto(encoded, chw);
        return chw;
    }

    /// <summary>Decodes <paramref name="encoded"/> into <paramref name="chw"/> (3,072 bytes, CHW, 32×32).</summary>
    /// <exception cref="InvalidDataException">The bytes are not an image Skia can decode.</exception>
    /// <exception cref="ImageTooLargeException">The image is over <see cref="Tina.MLNet.TinaImageLimits.Default"/> (20 MB, or a header that declares more than 40 megapixels or a side over 20,000 pixels); refused before decoding.</exception>
    public static void DecodeInto(byte[] encoded, Span<byte> chw)
    {
        using var image = Open(encoded);
        // GetBGRPixels, not Pixels: MLImage.Pixels calls SKBitmap.GetPixelSpan(), whose signature changed in
        // SkiaSharp 3, so it throws MissingMethodException in a process that loads SkiaSharp 3 (ScottPlot does).
        // GetBGRPixels goes through SKBitmap.Pixels, which both SkiaSharp 2.88 and 3.x have.
        ResizeBgrToChw(image.GetBGRPixels, image.Width, image.Height, chw);
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/>, keeps its centred square (side = the shorter side) and resizes that to
    /// <paramref name="size"/>×<paramref name="size"/> with the same filter: CLIP's preprocessing (shorter side to the
    /// input size, centre crop), except that CLIP resizes bicubically. Returns 3 × size × size CHW bytes.
    /// </summary>
    /// <exception cref="InvalidDataException">The bytes are not an image Skia can decode.</exception>
    /// <exception cref="ImageTooLargeException">The image is over <see cref="Tina.MLNet.TinaImageLimits.Default"/> (20 MB, or a header that declares more than 40 megapixels or a side over 20,000 pixels); refused before decoding.</exception>
    public static byte[] DecodeCenterSquare(byte[] encoded, int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        using var image = Open(encoded);
        var bgr = image.GetBGRPixels;
        int w = image.Width, h = image.Height, side = Math.Min(w, h);
        int x0 = (w - side) / 2, y0 = (h - side) / 2;
        var chw = new byte[3 * size * size];
        Resize(bgr[((y0 * w + x0) * 3)..], side, side, w * 3, 3, 2, 1, 0, chw, size);
        return chw;
    }

    private static MLImage Open(byte[] encoded)
    {
        // The size limits before decoding (image prompts come from users; a bomb would allocate gigabytes).
        var header = Tina.MLNet.TinaImages.TryReadHeader(encoded, out var problem)
            ?? throw new InvalidDataException($"not a decodable image ({problem})");
        Tina.MLNet.TinaImages.CheckLimits(header, encoded.Length, "The image");
        using var stream = new MemoryStream(encoded, writable: false);
        try
        {
            return MLImage.CreateFromStream(stream);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InvalidDataException($"not a decodable image ({e.Message})", e);
        }
    }

    /// <summary>
    /// Resizes packed 24-bit B,G,R pixels (as returned by <c>MLImage.GetBGRPixels</c>: rows of <c>3 × width</c> bytes,
    /// no padding) to 32×32 and writes R, G and B planes into <paramref name="chw"/>.
    /// </summary>
    public static void ResizeBgrToChw(ReadOnlySpan<byte> bgr, int width, int height, Span<byte> chw)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Invalid image size {width}×{height}.");
        if (bgr.Length != width * height * 3) throw new ArgumentException($"{bgr.Length} bytes is not a {width}×{height} BGR image.", nameof(bgr));
        Resize(bgr, width, height, width * 3, 3, 2, 1, 0, chw, Size);
    }

    /// <summary>
    /// Resizes 32-bit pixels in the layout of <see cref="MLImage.Pixels"/> (<see cref="MLPixelFormat.Bgra32"/> or
    /// <see cref="MLPixelFormat.Rgba32"/>, rows of <c>pixels.Length / height</c> bytes) to 32×32 and writes R, G and B
    /// planes into <paramref name="chw"/>. Alpha is ignored. (<see cref="Decode"/> does not read
    /// <see cref="MLImage.Pixels"/> itself: that property throws <see cref="MissingMethodException"/> when SkiaSharp 3 is
    /// loaded.)
    /// </summary>
    public static void ResizeToChw(ReadOnlySpan<byte> pixels, int width, int height, MLPixelFormat format, Span<byte> chw)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"Invalid image size {width}×{height}.");
        int stride = pixels.Length / height;
        if (stride < width * 4) throw new ArgumentException($"{pixels.Length} pixel bytes cannot hold a {width}×{height} 32-bit image.");
        (int r, int g, int b) = format switch
        {
            MLPixelFormat.Bgra32 => (2, 1, 0),
            MLPixelFormat.Rgba32 => (0, 1, 2),
            _ => throw new ArgumentException($"Unsupported pixel format {format}.", nameof(format)),
        };
        Resize(pixels, width, height, stride, 4, r, g, b, chw, Size);
    }

    /// <summary>The separable resize of interleaved pixels (<paramref name="bpp"/> bytes each, channel offsets r, g, b) into <paramref name="size"/>² CHW planes.</summary>
    private static void Resize(ReadOnlySpan<byte> pixels, int width, int height, int stride, int bpp, int r, int g, int b, Span<byte> chw, int size)
    {
        if (chw.Length != 3 * size * size) throw new ArgumentException($"Output must hold {3 * size * size} bytes.", nameof(chw));
        ReadOnlySpan<int> offsets = [r, g, b];

        var cols = Coefficients(width, size);
        var rows = Coefficients(height, size);
        var tmp = new float[height * size]; // one channel after the horizontal pass: height rows × size columns
        int Plane = size * size;
        for (int c = 0; c < 3; c++)
        {
            int off = offsets[c];
            for (int y = 0; y < height; y++)
            {
                var row = pixels.Slice(y * stride, width * bpp);
                for (int ox = 0; ox < size; ox++)
                {
                    var (start, w) = cols[ox];
                    float sum = 0;
                    for (int k = 0; k < w.Length; k++) sum += w[k] * row[(start + k) * bpp + off];
                    tmp[y * size + ox] = sum;
                }
            }
            var plane = chw.Slice(c * Plane, Plane);
            for (int oy = 0; oy < size; oy++)
            {
                var (start, w) = rows[oy];
                for (int ox = 0; ox < size; ox++)
                {
                    float sum = 0;
                    for (int k = 0; k < w.Length; k++) sum += w[k] * tmp[(start + k) * size + ox];
                    plane[oy * size + ox] = (byte)Math.Clamp((int)MathF.Round(sum), 0, 255);
                }
            }
        }
    }

    /// <summary>
    /// Decodes many images on all cores into one pixel array (image <c>i</c> at offset <c>i × 3072</c>), so the output
    /// does not depend on scheduling. A failing image is reported with its member name inside the archive.
    /// </summary>
    internal static byte[] DecodeAll(string archivePath, IReadOnlyList<TarGzArchive.Member> members,
        IProgress<DatasetProgress>? progress, CancellationToken cancellationToken, string stage = "Decoding images")
    {
        var pixels = GC.AllocateUninitializedArray<byte>(checked((int)((long)members.Count * ImageSet.ImageBytes)));
        var failures = new ConcurrentBag<(int Index, Exception Error)>();
        int done = 0, step = Math.Max(1, members.Count / 100);
        progress?.Report(new DatasetProgress(stage, 0));
        Parallel.For(0, members.Count,
            new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
            i =>
            {
                try
                {
                    DecodeInto(members[i].Data!, pixels.AsSpan(i * ImageSet.ImageBytes, ImageSet.ImageBytes));
                }
                catch (Exception e) when (e is InvalidDataException or ImageTooLargeException)
                {
                    failures.Add((i, e));
                }
                int n = Interlocked.Increment(ref done);
                if (n % step == 0) progress?.Report(new DatasetProgress(stage, (double)n / members.Count));
            });
        if (!failures.IsEmpty)
        {
            var (index, error) = failures.MinBy(f => f.Index);
            var more = failures.Count > 1 ? $" ({failures.Count - 1} more images fail too)" : "";
            throw new CorruptFileException(archivePath, $"member {members[index].Path}: {error.Message}{more}", error);
        }
        progress?.Report(new DatasetProgress(stage, 1));
        return pixels;
    }

    /// <summary>
    /// Filter taps for resampling <paramref name="inSize"/> samples to <paramref name="outSize"/>: for each output,
    /// the first input index and the normalised weights of a triangle filter scaled by the downscale factor.
    /// </summary>
    private static (int Start, float[] Weights)[] Coefficients(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale; // the triangle filter has support 1, widened when downscaling
        var result = new (int, float[])[outSize];
        for (int o = 0; o < outSize; o++)
        {
            double center = (o + 0.5) * scale;
            int min = Math.Max((int)Math.Floor(center - support + 0.5), 0);
            int max = Math.Min((int)Math.Floor(center + support + 0.5), inSize);
            if (max <= min) { min = Math.Min((int)center, inSize - 1); max = min + 1; }
            var w = new double[max - min];
            double total = 0;
            for (int k = 0; k < w.Length; k++)
            {
                double x = (min + k - center + 0.5) / filterScale;
                w[k] = Math.Max(0.0, 1.0 - Math.Abs(x));
                total += w[k];
            }
            if (total <= 0) { Array.Fill(w, 0.0); w[0] = 1; total = 1; }
            result[o] = (min, w.Select(v => (float)(v / total)).ToArray());
        }
        return result;
    }
}
