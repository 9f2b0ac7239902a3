using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>One parameter token: a contiguous chunk of one tensor of the p-Model's flat parameter vector.</summary>
/// <param name="Index">Position of the token in the parameter-token sequence.</param>
/// <param name="TensorName">The layout entry (state-dict name) the chunk belongs to, e.g. <c>conv2.weight</c>.</param>
/// <param name="Offset">Index of the chunk's first element in the flat vector.</param>
/// <param name="Length">Number of elements in the chunk (at most the chunk size).</param>
public sealed record ParameterToken(int Index, string TensorName, int Offset, int Length);

/// <summary>
/// Parameter tokenization of the paper (§2.2.3), "chunk within layer": every tensor of the p-Model is flattened and cut
/// into chunks of <see cref="ChunkSize"/> numbers (576 in the paper); a tensor with N numbers gives ceil(N / M) tokens,
/// a tensor smaller than the chunk is one token, and the last chunk of a tensor may be shorter. Chunks never span two
/// tensors. The layout is the one of the largest prompt (10 classes; see <see cref="SequencePadding"/>), so every
/// prompt length gives the same token sequence. CNN-5K → [432, 576×8, 320, 10] = 11 tokens; ResNet-20 head →
/// [576, 64, 10] = 3 tokens.
/// With <see cref="ClassifierRowTokens"/> the classifier fc.weight is instead cut one row per token whatever the chunk
/// size, so every row — the part of a p-Model that follows the prompt — is a token of its own that can attend to its
/// class slot; CNN-5K at chunk 576 → [432, 576×8, 32×10, 10] = 20 tokens.
/// </summary>
public sealed class ParameterTokenizer
{
    /// <summary>The chunk size of the paper (A.5).</summary>
    public const int DefaultChunkSize = 576;

    /// <summary>
    /// Tokenizes <paramref name="layout"/> with chunks of <paramref name="chunkSize"/>; with
    /// <paramref name="classifierRowTokens"/>, fc.weight one row per token.
    /// </summary>
    public ParameterTokenizer(ParameterLayout layout, int chunkSize = DefaultChunkSize, bool classifierRowTokens = false)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        Layout = layout;
        ChunkSize = chunkSize;
        ClassifierRowTokens = classifierRowTokens;
        var tokens = new List<ParameterToken>();
        foreach (var e in layout.Entries)
        {
            int size = classifierRowTokens && e.Name == "fc.weight" ? (int)e.Shape[1] : chunkSize;
            for (int start = 0; start < e.Length; start += size)
                tokens.Add(new ParameterToken(tokens.Count, e.Name, e.Offset + start, Math.Min(size, e.Length - start)));
        }
        Tokens = tokens;
    }

    /// <summary>The tokenizer of <paramref name="arch"/> laid out for <paramref name="maxClasses"/> classes (the paper: 10).</summary>
    public static ParameterTokenizer For(PModelArch arch, int chunkSize = DefaultChunkSize, int maxClasses = SequencePadding.DefaultMaxClasses, bool classifierRowTokens = false) =>
        new(ParameterLayout.For(arch, maxClasses), chunkSize, classifierRowTokens);

    /// <summary>The tokenizer that <paramref name="config"/> describes for <paramref name="arch"/>.</summary>
    public static ParameterTokenizer For(PModelArch arch, TinaConfig config) =>
        For(arch, config.ChunkSize, config.MaxClasses, config.ClassifierRowTokens);

    /// <summary>The (maximum-class) parameter layout being tokenized.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Chunk size M of every tensor except, with <see cref="ClassifierRowTokens"/>, fc.weight.</summary>
    public int ChunkSize { get; }

    /// <summary>Whether fc.weight is cut one classifier row per token instead of in chunks of <see cref="ChunkSize"/>.</summary>
    public bool ClassifierRowTokens { get; }

    /// <summary>The tokens, in vector order; they cover the vector exactly once.</summary>
    public IReadOnlyList<ParameterToken> Tokens { get; }

    /// <summary>Number of parameter tokens.</summary>
    public int Count => Tokens.Count;

    /// <summary>Length of the flat parameter vector (P).</summary>
    public int ParameterCount => Layout.Count;

    /// <summary>Splits a batch of vectors [B, P] into one view [B, len_i] per token (no copy).</summary>
    public Tensor[] Split(Tensor vectors)
    {
        CheckVectors(vectors);
        return Tokens.Select(t => vectors.narrow(1, t.Offset, t.Length)).ToArray();
    }

    /// <summary>Joins per-token tensors [B, len_i] (in token order) back into vectors [B, P].</summary>
    public Tensor Join(IReadOnlyList<Tensor> tokens)
    {
        if (tokens.Count != Count) throw new ArgumentException($"Expected {Count} token tensors, got {tokens.Count}.", nameof(tokens));
        for (int i = 0; i < Count; i++)
            if (tokens[i].ndim != 2 || tokens[i].shape[1] != Tokens[i].Length)
                throw new ArgumentException($"Token {i} must be [B, {Tokens[i].Length}]; got [{string.Join(", ", tokens[i].shape)}].", nameof(tokens));
        return cat(tokens.ToList(), 1);
    }

    private void CheckVectors(Tensor vectors)
    {
        if (vectors.ndim != 2 || vectors.shape[1] != ParameterCount)
            throw new ArgumentException($"Expected parameter vectors [B, {ParameterCount}]; got [{string.Join(", ", vectors.shape)}].", nameof(vectors));
    }
}
