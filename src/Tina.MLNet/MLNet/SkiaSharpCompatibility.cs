using SkiaSharp;

namespace Tina.MLNet;

/// <summary>
/// Detects the one SkiaSharp incompatibility that breaks ML.NET's image pipeline. ML.NET 5.0.1's ExtractPixels reads
/// <c>MLImage.Pixels</c>, compiled against SkiaSharp 2.88's <c>ReadOnlySpan&lt;byte&gt; SKBitmap.GetPixelSpan()</c>;
/// SkiaSharp 3.x returns <c>Span&lt;byte&gt;</c>, so in a process that loads SkiaSharp 3 (ScottPlot 5.1 brings it) every
/// image row fails with a <see cref="MissingMethodException"/>. Checked up front so the user gets an explanation
/// instead of that exception deep inside an ML.NET cursor.
/// </summary>
public static class SkiaSharpCompatibility
{
    private static readonly Lazy<string?> Problem = new(FindProblem);

    /// <summary>Whether ML.NET's image transforms can run in this process (null <see cref="ProblemMessage"/>).</summary>
    public static bool ImagePipelineWorks => Problem.Value is null;

    /// <summary>The explanation of why they cannot, or null when they can.</summary>
    public static string? ProblemMessage => Problem.Value;

    /// <summary>Throws a <see cref="TinaException"/> explaining the conflict when the loaded SkiaSharp breaks ExtractPixels.</summary>
    public static void EnsureImagePipelineWorks()
    {
        if (Problem.Value is { } message) throw new TinaException(message);
    }

    private static string? FindProblem()
    {
        var method = typeof(SKBitmap).GetMethod(nameof(SKBitmap.GetPixelSpan), Type.EmptyTypes);
        if (method is not null && method.ReturnType == typeof(ReadOnlySpan<byte>)) return null;
        var version = typeof(SKBitmap).Assembly.GetName().Version;
        return $"This process loaded SkiaSharp {version}, but ML.NET's image transforms (ExtractPixels → MLImage.Pixels) need "
            + "SkiaSharp 2.88 (SKBitmap.GetPixelSpan changed in SkiaSharp 3). A package in this application (e.g. ScottPlot 5.1) "
            + "pulls SkiaSharp 3; run the ML.NET image pipeline in a process that references SkiaSharp 2.88, or classify "
            + "pre-decoded pixels with the ONNX model directly.";
    }
}
