namespace Tina.Text;

/// <summary>
/// A frozen text encoder: maps class names or sentences to fixed-size vectors that condition the parameter diffusion
/// model (one embedding token per class). Implementations never train and are deterministic, so an embedding can be
/// cached on disk under (<see cref="Id"/>, text) — see <see cref="EmbeddingCache"/>.
/// </summary>
/// <remarks>
/// Every implementation returns L2-normalised vectors (unit length; a zero vector stays zero), so that encoders are
/// interchangeable as conditioning inputs and a dot product is the cosine similarity.
/// </remarks>
public interface ITextEncoder : IDisposable
{
    /// <summary>
    /// Identity of the encoder and of every setting that changes its output (weights, tokenisation, pooling), written
    /// into checkpoints so that a model is never conditioned with a different encoder than the one it was trained
    /// with. Examples: <c>glove-wink-100d@1.1.0+sif:1a2b3c4d</c>, <c>clip-vit-b32:0123456789abcdef</c>.
    /// </summary>
    string Id { get; }

    /// <summary>Length of every vector returned by <see cref="Encode"/>.</summary>
    int Dimension { get; }

    /// <summary>
    /// Encodes a batch of texts; result <c>i</c> is the unit-length embedding of <c>texts[i]</c>, of length
    /// <see cref="Dimension"/>.
    /// </summary>
    /// <exception cref="InvalidPromptException">A text cannot be encoded (empty, or no known word).</exception>
    float[][] Encode(IReadOnlyList<string> texts);
}
