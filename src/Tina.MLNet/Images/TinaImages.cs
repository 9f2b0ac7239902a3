using Microsoft.ML.Data;
using SkiaSharp;
using Tina.MLNet.Errors;

namespace Tina.MLNet;

/// <summary>What an image's header declares, read without decoding its pixels.</summary>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Format">The encoding, e.g. <c>Jpeg</c>, <c>Png</c>, <c>Bmp</c>, <c>Webp</c>, <c>Gif</c>.</param>
public sealed record TinaImageHeader(int Width, int Height, string Format)
{
    /// <summary>Width × height.</summary>
    public long Pixels => (long)Width * Height;
}

/// <summary>
/// The one place where Tina reads images it is given (by the library, the CLI and the server): the byte limit is
/// checked while reading, the pixel limits on the header, and only then is the image decoded. Every check throws a
/// Tina error (<see cref="ITinaError"/>) that names the image: <see cref="ImageTooLargeException"/> (a limit of
/// <see cref="TinaImageLimits"/>), <see cref="CorruptFileException"/> (not an image SkiaSharp reads) or
/// <see cref="TinaFileNotFoundException"/>. Thread-safe.
/// </summary>
/// <remarks>
/// The header is read by SkiaSharp's <c>SKCodec</c>, the codec ML.NET's <see cref="MLImage"/> decodes with, so an image
/// that passes is one <see cref="MLImage"/> reads, and the formats are the same (JPEG, PNG, BMP, WebP, GIF, ICO, …).
/// Reading a header costs well under a millisecond whatever the declared size.
/// </remarks>
public static class TinaImages
{
    /// <summary>Reads the header of <paramref name="encodedImage"/> and checks it against <paramref name="limits"/> (and its length against the byte limit); decodes nothing.</summary>
    /// <param name="encodedImage">The encoded image.</param>
    /// <param name="source">Names the image in errors.</param>
    /// <param name="limits">The limits; <see cref="TinaImageLimits.Default"/> when null.</param>
    /// <returns>The declared size and format.</returns>
    /// <exception cref="ImageTooLargeException">Too many bytes, or the header declares too many pixels or too long a side.</exception>
    /// <exception cref="CorruptFileException">The bytes are empty or not an image SkiaSharp can read.</exception>
    public static TinaImageHeader CheckHeader(byte[] encodedImage, string source, TinaImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        limits ??= TinaImageLimits.Default;
        if (encodedImage.Length > limits.MaxBytes)
            throw new ImageTooLargeException(source, ImageLimitKind.Bytes, limits.MaxBytes, encodedImage.Length);
        var header = TryReadHeader(encodedImage, out var problem)
            ?? throw new CorruptFileException(source, $"not a readable image ({problem})");
        CheckLimits(header, encodedImage.Length, source, limits);
        return header;
    }

    /// <summary>Checks a header already read (<see cref="TryReadHeader"/>) and the image's byte count against <paramref name="limits"/>.</summary>
    /// <param name="header">What the image's header declares.</param>
    /// <param name="encodedBytes">The encoded image's length in bytes.</param>
    /// <param name="source">Names the image in errors.</param>
    /// <param name="limits">The limits; <see cref="TinaImageLimits.Default"/> when null.</param>
    /// <exception cref="ImageTooLargeException">Too many bytes, or the header declares too many pixels or too long a side.</exception>
    public static void CheckLimits(TinaImageHeader header, long encodedBytes, string source, TinaImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        limits ??= TinaImageLimits.Default;
        if (encodedBytes > limits.MaxBytes)
            throw new ImageTooLargeException(source, ImageLimitKind.Bytes, limits.MaxBytes, encodedBytes);
        if (header.Pixels > limits.MaxPixels)
            throw new ImageTooLargeException(source, ImageLimitKind.Pixels, limits.MaxPixels, header.Pixels, header.Width, header.Height);
        if (header.Width > limits.MaxSide || header.Height > limits.MaxSide)
            throw new ImageTooLargeException(source, ImageLimitKind.Side, limits.MaxSide, Math.Max(header.Width, header.Height), header.Width, header.Height);
    }

    /// <summary>Reads what the header of <paramref name="encodedImage"/> declares without decoding or checking limits; null (and why in <paramref name="problem"/>) when SkiaSharp cannot read it.</summary>
    public static TinaImageHeader? TryReadHeader(byte[] encodedImage, out string problem)
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        if (encodedImage.Length == 0)
        {
            problem = "no bytes";
            return null;
        }
        // Not SKCodec.Create(Stream): it wraps the stream so that disposing the codec disposes it. A non-owning wrapper
        // over the caller's bytes keeps them usable and copies nothing.
        using var stream = new MemoryStream(encodedImage, writable: false);
        using var skStream = new SKManagedStream(stream, disposeManagedStream: false);
        using var codec = SKCodec.Create(skStream, out var result);
        if (codec is null)
        {
            problem = result == SKCodecResult.Unimplemented ? "unknown format" : $"bad header: {result}";
            return null;
        }
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0)
        {
            problem = $"the header declares {info.Width}×{info.Height} pixels";
            return null;
        }
        problem = "";
        return new TinaImageHeader(info.Width, info.Height, codec.EncodedFormat.ToString());
    }

    /// <summary>Reads the image file at <paramref name="path"/> after checking its size, and checks its header; returns its bytes (not decoded).</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageTooLargeException">The file has too many bytes (checked before it is read), or its header declares too many pixels.</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    public static byte[] ReadFile(string path, TinaImageLimits? limits = null)
    {
        limits = CheckFileBeforeReading(path, limits);
        byte[] bytes;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
            bytes = ReadBounded(stream, path, limits.MaxBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CorruptFileException(path, $"cannot be read ({e.Message})", e);
        }
        CheckHeader(bytes, path, limits);
        return bytes;
    }

    /// <summary>The checks before a file is read (it exists, its size is within the limit); returns the limits in use.</summary>
    private static TinaImageLimits CheckFileBeforeReading(string path, TinaImageLimits? limits)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= TinaImageLimits.Default;
        var file = new FileInfo(path);
        if (!file.Exists)
            throw new TinaFileNotFoundException(path, "Expected an image file (PNG, JPEG, BMP, WebP, …).");
        if (file.Length > limits.MaxBytes)
            throw new ImageTooLargeException(path, ImageLimitKind.Bytes, limits.MaxBytes, file.Length);
        return limits;
    }

    /// <summary>As <see cref="ReadFile"/>, reading the file asynchronously.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageTooLargeException">The file has too many bytes (checked before it is read), or its header declares too many pixels.</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<byte[]> ReadFileAsync(string path, TinaImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits = CheckFileBeforeReading(path, limits);
        byte[] bytes;
        try
        {
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
            bytes = await ReadBoundedAsync(stream, path, limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not ITinaError)
        {
            throw new CorruptFileException(path, $"cannot be read ({e.Message})", e);
        }
        CheckHeader(bytes, path, limits);
        return bytes;
    }

    /// <summary>
    /// Reads <paramref name="stream"/> to its end, refusing it as soon as it holds more than <paramref name="maxBytes"/>
    /// (a seekable stream is refused before anything is read); returns the bytes (not decoded, header not checked).
    /// </summary>
    /// <exception cref="ImageTooLargeException">The stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static byte[] ReadBounded(Stream stream, string source, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RefuseKnownLength(stream, source, maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = stream.Read(chunk)) > 0) Append(buffer, chunk, n, source, maxBytes);
        return buffer.ToArray();
    }

    /// <summary>As <see cref="ReadBounded"/>, asynchronously (a request body).</summary>
    /// <exception cref="ImageTooLargeException">The stream holds more than <paramref name="maxBytes"/> bytes.</exception>
    public static async Task<byte[]> ReadBoundedAsync(Stream stream, string source, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RefuseKnownLength(stream, source, maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0) Append(buffer, chunk, n, source, maxBytes);
        return buffer.ToArray();
    }

    /// <summary>Checks <paramref name="encodedImage"/> against <paramref name="limits"/> (<see cref="CheckHeader"/>) and decodes it; the caller disposes the image.</summary>
    /// <exception cref="ImageTooLargeException">Too many bytes, or the header declares too many pixels or too long a side.</exception>
    /// <exception cref="CorruptFileException">The bytes are not a readable image.</exception>
    public static MLImage Decode(byte[] encodedImage, string source, TinaImageLimits? limits = null)
    {
        CheckHeader(encodedImage, source, limits);
        try
        {
            return MLImage.CreateFromStream(new MemoryStream(encodedImage, writable: false));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or FormatException or NotSupportedException)
        {
            throw new CorruptFileException(source, $"not a readable image ({e.Message})", e);
        }
    }

    /// <summary>Reads the image file at <paramref name="path"/> with <see cref="ReadFile"/> and decodes it; the caller disposes the image.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageTooLargeException">Too many bytes, or the header declares too many pixels or too long a side.</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    public static MLImage DecodeFile(string path, TinaImageLimits? limits = null) => Decode(ReadFile(path, limits), path, limits);

    /// <summary>Reads <paramref name="stream"/> with <see cref="ReadBounded"/> (the byte limit) and decodes it with <see cref="Decode"/>; the caller disposes the image.</summary>
    /// <exception cref="ImageTooLargeException">Too many bytes, or the header declares too many pixels or too long a side.</exception>
    /// <exception cref="CorruptFileException">The stream does not hold a readable image.</exception>
    public static MLImage DecodeStream(Stream stream, string source, TinaImageLimits? limits = null)
    {
        limits ??= TinaImageLimits.Default;
        return Decode(ReadBounded(stream, source, limits.MaxBytes), source, limits);
    }

    private static void RefuseKnownLength(Stream stream, string source, long maxBytes)
    {
        if (!stream.CanSeek) return;
        long left = stream.Length - stream.Position;
        if (left > maxBytes) throw new ImageTooLargeException(source, ImageLimitKind.Bytes, maxBytes, left);
    }

    private static void Append(MemoryStream buffer, byte[] chunk, int n, string source, long maxBytes)
    {
        if (buffer.Length + n > maxBytes) throw new ImageTooLargeException(source, ImageLimitKind.Bytes, maxBytes, actual: null);
        buffer.Write(chunk, 0, n);
    }
}
