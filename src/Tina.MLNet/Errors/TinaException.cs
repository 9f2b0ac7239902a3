namespace Tina.MLNet.Errors;

/// <summary>
/// Marks every error caused by the caller's input or environment (a bad prompt, a missing or corrupt file, an unknown
/// class, an image over the size limits): the message names what is wrong and how to fix it. Each Tina error also
/// derives from the .NET exception a .NET developer expects for its kind, so ordinary handlers catch it:
/// <list type="table">
/// <item><term><see cref="TinaFileNotFoundException"/></term><description><see cref="FileNotFoundException"/> (an <see cref="IOException"/>): a model, dataset or encoder file is missing.</description></item>
/// <item><term><see cref="CorruptFileException"/></term><description><see cref="IOException"/>: a file or bytes (an image, a model, an archive) are not what their format promises.</description></item>
/// <item><term><see cref="InvalidModelException"/></term><description><see cref="IOException"/>: a readable ONNX model that is not a Tina classifier.</description></item>
/// <item><term><see cref="InvalidPromptException"/></term><description><see cref="ArgumentException"/>: a class list (prompt) is invalid.</description></item>
/// <item><term><see cref="ImageTooLargeException"/></term><description><see cref="ArgumentException"/>: an image over <see cref="Tina.MLNet.TinaImageLimits"/>.</description></item>
/// <item><term><see cref="TinaArgumentException"/></term><description><see cref="ArgumentException"/>: another invalid value (the base of the two above).</description></item>
/// <item><term><see cref="TinaException"/></term><description><see cref="Exception"/>: any other user error (a bad option value, a generator that cannot serve the request).</description></item>
/// </list>
/// (.NET's own <see cref="InvalidDataException"/> is sealed, so no Tina type can derive from it; corrupt data is an
/// <see cref="IOException"/>, like a missing file, and <c>catch (IOException)</c> handles both.)
/// To handle all of them at once: <c>catch (Exception e) when (e is ITinaError)</c>. The CLI does exactly that: it
/// prints <see cref="Exception.Message"/> without a stack trace and exits with code 2; anything that is not an
/// <see cref="ITinaError"/> is a bug and is reported with its stack trace.
/// </summary>
public interface ITinaError
{
    /// <summary>What is wrong and how to fix it (the exception's message).</summary>
    string Message { get; }
}

/// <summary>
/// A user error that has no more specific .NET type (a bad option value, an encoder that cannot be opened, a
/// generator that cannot serve the request). See <see cref="ITinaError"/> for the others: missing files are
/// <see cref="FileNotFoundException"/>s, corrupt data <see cref="IOException"/>s and bad prompts
/// <see cref="ArgumentException"/>s.
/// </summary>
public class TinaException : Exception, ITinaError
{
    /// <summary>Creates the error with a message that names what is wrong and how to fix it.</summary>
    public TinaException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the low-level exception that revealed it.</summary>
    public TinaException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A file that should exist (dataset archive, weights, model, an encoder's data) is missing. A
/// <see cref="FileNotFoundException"/> (so an <see cref="IOException"/>), whose <see cref="FileNotFoundException.FileName"/>
/// is the path; the message says how to obtain the file.
/// </summary>
public sealed class TinaFileNotFoundException : FileNotFoundException, ITinaError
{
    /// <summary>Creates the error for <paramref name="path"/>, with a hint on how to obtain it.</summary>
    public TinaFileNotFoundException(string path, string hint)
        : base($"File not found: {path}. {hint}", path) => FilePath = path;

    /// <summary>The path that was looked for (the same as <see cref="FileNotFoundException.FileName"/>).</summary>
    public string FilePath { get; }
}

/// <summary>
/// A file or encoded bytes exist but their content is not what the format promises (truncated archive, bad header,
/// wrong sizes, bytes that are not an image). An <see cref="IOException"/> (.NET's <see cref="InvalidDataException"/>,
/// which its decompressors throw, is sealed); the low-level exception that revealed the problem, if any, is the
/// <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class CorruptFileException : IOException, ITinaError
{
    /// <summary>Creates the error for <paramref name="path"/> with what was found wrong.</summary>
    /// <param name="path">The file, or a name for in-memory data ("image bytes", "the uploaded image").</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="inner">The low-level exception that revealed it, if any.</param>
    public CorruptFileException(string path, string problem, Exception? inner = null)
        : base($"Corrupt or unreadable file {path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    /// <summary>The offending file (or the name of the in-memory data).</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it (the message without the file's name), e.g. <c>not a readable image (unknown format)</c>.</summary>
    public string Problem { get; }
}

/// <summary>
/// A readable model that is not a Tina classifier (an ONNX model without Tina's metadata, inputs or outputs, or with
/// inconsistent metadata). An <see cref="IOException"/>, like <see cref="CorruptFileException"/>.
/// </summary>
public sealed class InvalidModelException : IOException, ITinaError
{
    /// <summary>Creates the error with a message naming the model and what is wrong with it.</summary>
    public InvalidModelException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the low-level exception that revealed it.</summary>
    public InvalidModelException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// A value given to Tina is invalid (an unknown encoder or format name, a missing required setting). An
/// <see cref="ArgumentException"/> whose <see cref="ArgumentException.ParamName"/> is not set, so the message is
/// Tina's alone. <see cref="InvalidPromptException"/> and <see cref="ImageTooLargeException"/> are the two kinds with
/// a type of their own.
/// </summary>
public class TinaArgumentException : ArgumentException, ITinaError
{
    /// <summary>Creates the error with a message naming the value and what is accepted.</summary>
    public TinaArgumentException(string message) : base(message) { }
}

/// <summary>
/// A class list (prompt) is invalid: empty, too long, with duplicates or with classes the dataset or encoder does not
/// know. An <see cref="ArgumentException"/> (through <see cref="TinaArgumentException"/>).
/// </summary>
public sealed class InvalidPromptException : TinaArgumentException
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
/// An <see cref="ArgumentException"/> (through <see cref="TinaArgumentException"/>): the image given is outside what
/// the caller allowed.
/// </summary>
public sealed class ImageTooLargeException : TinaArgumentException
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
            ? $"{source} is too large: {ByteCount.Format(n)}, over the limit of {ByteCount.Format(maximum)} per image."
            : $"{source} is too large: over the limit of {ByteCount.Format(maximum)} per image.",
        ImageLimitKind.Pixels => FormattableString.Invariant(
            $"{source} declares {width}×{height} pixels ({(double)width * height / 1e6:0.#} megapixels), over the limit of {maximum / 1e6:0.#} megapixels; it was not decoded."),
        _ => FormattableString.Invariant(
            $"{source} declares {width}×{height} pixels, a side over the limit of {maximum} pixels; it was not decoded."),
    };
}

/// <summary>
/// A byte count in words (<see cref="Tina.MLNet.TinaImageLimits.FormatBytes"/>); here, beside the exceptions whose
/// messages use it, so that the exceptions depend on nothing else of the package.
/// </summary>
internal static class ByteCount
{
    /// <summary>"20 MB", "3.4 MB", "64 KB", "900 bytes" (1 KB = 1,024 bytes).</summary>
    public static string Format(long bytes)
    {
        const long KB = 1024, MB = 1024 * 1024;
        var c = System.Globalization.CultureInfo.InvariantCulture;
        if (bytes >= MB) return bytes % MB == 0 ? string.Create(c, $"{bytes / MB} MB") : string.Create(c, $"{(double)bytes / MB:0.0} MB");
        if (bytes >= KB) return bytes % KB == 0 ? string.Create(c, $"{bytes / KB} KB") : string.Create(c, $"{(double)bytes / KB:0.0} KB");
        return string.Create(c, $"{bytes} bytes");
    }
}
