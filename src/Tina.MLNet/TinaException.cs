namespace Tina;

/// <summary>
/// Base type of every error caused by the caller's input or environment (a bad prompt, a missing or corrupt file,
/// an unknown class). The CLI prints <see cref="Exception.Message"/> without a stack trace and exits with a non-zero
/// code; anything that is not a <see cref="TinaException"/> is a bug and is reported with its stack trace.
/// </summary>
public class TinaException : Exception
{
    /// <summary>Creates the error with a message that names what is wrong and how to fix it.</summary>
    public TinaException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the low-level exception that revealed it.</summary>
    public TinaException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A file that should exist (dataset archive, weights, model) is missing.</summary>
public sealed class TinaFileNotFoundException : TinaException
{
    /// <summary>Creates the error for <paramref name="path"/>, with a hint on how to obtain it.</summary>
    public TinaFileNotFoundException(string path, string hint)
        : base($"File not found: {path}. {hint}") => FilePath = path;

    /// <summary>The path that was looked for.</summary>
    public string FilePath { get; }
}

/// <summary>A file exists but its content is not what its format promises (truncated archive, bad header, wrong sizes).</summary>
public sealed class CorruptFileException : TinaException
{
    /// <summary>Creates the error for <paramref name="path"/> with what was found wrong.</summary>
    public CorruptFileException(string path, string problem, Exception? inner = null)
        : base($"Corrupt or unreadable file {path}: {problem}", inner ?? new InvalidDataException(problem)) => FilePath = path;

    /// <summary>The offending file.</summary>
    public string FilePath { get; }
}

/// <summary>A class list (prompt) is invalid: empty, too long, with duplicates or with classes the dataset or encoder does not know.</summary>
public sealed class InvalidPromptException : TinaException
{
    /// <summary>Creates the error with a message naming the offending classes.</summary>
    public InvalidPromptException(string message) : base(message) { }
}

/// <summary>Which of <see cref="Tina.MLNet.TinaImageLimits"/> an image broke.</summary>
public enum ImageLimitKind
{
    /// <summary>The encoded image (file, bytes, stream or request body) has more bytes than <see cref="Tina.MLNet.TinaImageLimits.MaxBytes"/>.</summary>
    Bytes,

    /// <summary>The image's header declares more pixels (width × height) than <see cref="Tina.MLNet.TinaImageLimits.MaxPixels"/>.</summary>
    Pixels,

    /// <summary>The image's header declares a width or height over <see cref="Tina.MLNet.TinaImageLimits.MaxSide"/>.</summary>
    Side,
}

/// <summary>
/// An image was refused before it was decoded because it is larger than the <see cref="Tina.MLNet.TinaImageLimits"/>
/// in force: too many bytes, or a header that declares too many pixels (a "decompression bomb": a file of a few
/// kilobytes can declare 30,000 × 30,000 pixels, and decoding it would allocate 4 bytes per pixel, 3.6 GB). The
/// message names the image and the limit; <c>tina serve</c> answers it with HTTP 413 and the CLI with exit code 2.
/// </summary>
public sealed class ImageTooLargeException : TinaException
{
    /// <summary>Creates the error for the image <paramref name="imageSource"/>.</summary>
    /// <param name="imageSource">Names the image (a path, "image bytes", "the uploaded image").</param>
    /// <param name="limit">Which limit it broke.</param>
    /// <param name="maximum">The limit: bytes, pixels or pixels per side.</param>
    /// <param name="actual">The image's byte count, pixel count or longer side; null when a stream was cut off at the limit without reading the rest.</param>
    /// <param name="width">Width declared by the header (0 when the header was not read).</param>
    /// <param name="height">Height declared by the header (0 when the header was not read).</param>
    public ImageTooLargeException(string imageSource, ImageLimitKind limit, long maximum, long? actual, int width = 0, int height = 0)
        : base(Describe(imageSource, limit, maximum, actual, width, height))
    {
        ImageSource = imageSource;
        Limit = limit;
        Maximum = maximum;
        Actual = actual;
        Width = width;
        Height = height;
    }

    /// <summary>Names the refused image.</summary>
    public string ImageSource { get; }

    /// <summary>Which limit the image broke.</summary>
    public ImageLimitKind Limit { get; }

    /// <summary>The limit in force: bytes (<see cref="ImageLimitKind.Bytes"/>), pixels (<see cref="ImageLimitKind.Pixels"/>) or pixels per side (<see cref="ImageLimitKind.Side"/>).</summary>
    public long Maximum { get; }

    /// <summary>The image's value of the same measure, or null when it is not known (a stream read only up to the limit).</summary>
    public long? Actual { get; }

    /// <summary>Width in pixels declared by the image's header (0 for <see cref="ImageLimitKind.Bytes"/>).</summary>
    public int Width { get; }

    /// <summary>Height in pixels declared by the image's header (0 for <see cref="ImageLimitKind.Bytes"/>).</summary>
    public int Height { get; }

    private static string Describe(string source, ImageLimitKind limit, long maximum, long? actual, int width, int height) => limit switch
    {
        ImageLimitKind.Bytes => actual is { } n
            ? $"{source} is too large: {Tina.MLNet.TinaImageLimits.FormatBytes(n)}, over the limit of {Tina.MLNet.TinaImageLimits.FormatBytes(maximum)} per image."
            : $"{source} is too large: over the limit of {Tina.MLNet.TinaImageLimits.FormatBytes(maximum)} per image.",
        ImageLimitKind.Pixels => FormattableString.Invariant(
            $"{source} declares {width}×{height} pixels ({(double)width * height / 1e6:0.#} megapixels), over the limit of {maximum / 1e6:0.#} megapixels; it was not decoded."),
        _ => FormattableString.Invariant(
            $"{source} declares {width}×{height} pixels, a side over the limit of {maximum} pixels; it was not decoded."),
    };
}
