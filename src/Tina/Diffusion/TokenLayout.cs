namespace Tina.Diffusion;

/// <summary>
/// How Tina's transformer cuts a p-Model's classifier into tokens and how it reads the class texts: one value per
/// combination the transformer can take (a layout that cannot be built has no value). See <see cref="TinaConfig"/>.
/// </summary>
public enum TokenLayout
{
    /// <summary>
    /// One token per class slot — its classifier row, its bias and its text — through one shared encoder and decoder
    /// (not in the paper): every slot teaches the same text → row mapping and a row knows its class without finding it
    /// by attention. On a 2–10-class ResNet-20 head zoo it reached 78.45 % OOD p-Acc after 30 epochs where the paper's
    /// per-slot layout reached 54.14 % (docs/RESULTS.md). Every recipe's layout.
    /// </summary>
    SharedSlots,

    /// <summary>
    /// The paper's per-slot coders with fc.weight cut one classifier row per token (whatever the chunk size), each token
    /// with its own encoder and decoder, and one text token per class slot with its own encoder.
    /// </summary>
    ClassifierRows,

    /// <summary>The paper's layout: every tensor, fc.weight too, cut in chunks of the chunk size; one text token per class slot.</summary>
    Chunks,

    /// <summary>
    /// Ablation (TAPER's design, the paper's Table 3) on <see cref="ClassifierRows"/>: one text token, the mean of the
    /// class embeddings through one linear, instead of one per class slot, so the rows cannot follow the class order.
    /// </summary>
    MergedTextRows,

    /// <summary>The merged-text-token ablation on <see cref="Chunks"/>.</summary>
    MergedTextChunks,
}

/// <summary>What a <see cref="TokenLayout"/> means for the tokenizer and the transformer, and its command-line names.</summary>
public static class TokenLayouts
{
    /// <summary>Whether fc.weight is cut one classifier row per token (<see cref="ParameterTokenizer.ClassifierRowTokens"/>).</summary>
    public static bool ClassifierRowTokens(this TokenLayout layout) => layout is TokenLayout.SharedSlots or TokenLayout.ClassifierRows or TokenLayout.MergedTextRows;

    /// <summary>Whether every class slot's row, bias and text share one token and one encoder/decoder.</summary>
    public static bool SharedSlots(this TokenLayout layout) => layout == TokenLayout.SharedSlots;

    /// <summary>Whether the class texts are merged into one token (the TAPER ablation).</summary>
    public static bool MergedTextToken(this TokenLayout layout) => layout is TokenLayout.MergedTextRows or TokenLayout.MergedTextChunks;

    /// <summary>
    /// The layout of the three switches older checkpoints stored (<c>classifierRowTokens</c>, <c>sharedSlots</c>,
    /// <c>mergedTextToken</c>).
    /// </summary>
    /// <exception cref="ArgumentException">A combination no transformer was built with (shared slots without row tokens, or with a merged text token).</exception>
    public static TokenLayout FromSwitches(bool classifierRowTokens, bool sharedSlots, bool mergedTextToken) => (classifierRowTokens, sharedSlots, mergedTextToken) switch
    {
        (true, true, false) => TokenLayout.SharedSlots,
        (true, false, false) => TokenLayout.ClassifierRows,
        (false, false, false) => TokenLayout.Chunks,
        (true, false, true) => TokenLayout.MergedTextRows,
        (false, false, true) => TokenLayout.MergedTextChunks,
        _ => throw new ArgumentException($"No token layout has classifier-row tokens {classifierRowTokens}, shared slots {sharedSlots} and a merged text token {mergedTextToken}."),
    };

    /// <summary>The command-line name: <c>shared</c>, <c>rows</c>, <c>chunks</c>, <c>merged-rows</c> or <c>merged-chunks</c>.</summary>
    public static string ToName(this TokenLayout layout) => layout switch
    {
        TokenLayout.SharedSlots => "shared",
        TokenLayout.ClassifierRows => "rows",
        TokenLayout.Chunks => "chunks",
        TokenLayout.MergedTextRows => "merged-rows",
        TokenLayout.MergedTextChunks => "merged-chunks",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, null),
    };
}
