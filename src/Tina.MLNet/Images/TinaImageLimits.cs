using System.Globalization;
using Tina.MLNet.Errors;

namespace Tina.MLNet;

/// <summary>
/// How large an image Tina's entry points accept: at most <see cref="MaxBytes"/> encoded bytes, and a header that
/// declares at most <see cref="MaxPixels"/> pixels and no side over <see cref="MaxSide"/>. The pixel limits are checked
/// on the header alone, before anything is decoded (<see cref="TinaImages.CheckHeader"/>): decoders allocate
/// width × height × 4 bytes first, so a file of a few kilobytes that declares 30,000 × 30,000 pixels would cost 3.6 GB.
/// </summary>
/// <remarks>
/// The defaults take every ordinary photo (a 40-megapixel camera's JPEG is 10–20 MB; a 7,000 × 5,000 image still
/// fits) while bounding one decode at 160 MB of pixels. <see cref="TinaPredictor"/>, <c>tina predict</c>, image prompts
/// and <c>tina serve</c>'s <c>POST /v1/predict</c> use <see cref="Default"/>; projects written by <c>tina new</c> copy
/// the same numbers. ML.NET's own <c>LoadImages</c> (a pipeline over file paths, e.g. a saved zip fed
/// <see cref="TinaImageInput"/>) decodes files without any such check: Tina cannot intercept it, so call
/// <see cref="TinaImages.ReadFile"/> or use <see cref="TinaPredictor"/> for files you do not control.
/// </remarks>
public sealed record TinaImageLimits
{
    /// <summary>Default <see cref="MaxBytes"/>: 20 MB (20 × 1,048,576 bytes).</summary>
    public const long DefaultMaxBytes = 20L * 1024 * 1024;

    /// <summary>Default <see cref="MaxPixels"/>: 40 megapixels (40,000,000).</summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>Default <see cref="MaxSide"/>: 20,000 pixels.</summary>
    public const int DefaultMaxSide = 20_000;

    /// <summary>The limits every Tina entry point uses unless told otherwise (20 MB, 40 megapixels, 20,000 pixels per side).</summary>
    public static TinaImageLimits Default { get; } = new();

    private readonly long _maxBytes = DefaultMaxBytes;
    private readonly long _maxPixels = DefaultMaxPixels;
    private readonly int _maxSide = DefaultMaxSide;

    /// <summary>Most encoded bytes of one image (file, byte array, stream or request body).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public long MaxBytes
    {
        get => _maxBytes;
        init => _maxBytes = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxBytes), value, "The byte limit must be at least 1.");
    }

    /// <summary>Most pixels (width × height) an image's header may declare.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public long MaxPixels
    {
        get => _maxPixels;
        init => _maxPixels = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxPixels), value, "The pixel limit must be at least 1.");
    }

    /// <summary>Largest width or height an image's header may declare, in pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public int MaxSide
    {
        get => _maxSide;
        init => _maxSide = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxSide), value, "The side limit must be at least 1.");
    }

    /// <summary>The limits in words, e.g. "20 MB, 40 megapixels, 20000 pixels per side".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FormatBytes(MaxBytes)}, {MaxPixels / 1e6:0.#} megapixels, {MaxSide} pixels per side");

    /// <summary>A byte count in words: "20 MB", "3.4 MB", "64 KB", "900 bytes" (1 KB = 1,024 bytes).</summary>
    public static string FormatBytes(long bytes) => ByteCount.Format(bytes);
}
