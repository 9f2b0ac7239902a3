using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// Classification sequence padding (§2.2.3): Tina always sees prompts of <see cref="MaxClasses"/> class slots and
/// p-Models with <see cref="MaxClasses"/> classifier rows. A prompt with C &lt; max classes fills the missing slots with
/// the embedding of the '&lt;-&gt;' text token, and its C-class p-Model is embedded into the max-class layout with
/// zero classifier rows/biases for the missing classes. A mask marks the real parameters: it zeroes the loss on the
/// padding and the padded rows of a generated model, which is then cut back to C classes.
/// Because the class dimension leads fc.weight [C, F] and fc.bias [C], the real part of every tensor is a prefix of
/// the padded one.
/// </summary>
public sealed class SequencePadding
{
    /// <summary>The paper's maximal prompt length.</summary>
    public const int DefaultMaxClasses = 10;

    /// <summary>The text of the padding token whose embedding fills missing class slots.</summary>
    public const string PadToken = "<->";

    /// <summary>Padding for <paramref name="arch"/> up to <paramref name="maxClasses"/> classes.</summary>
    public SequencePadding(PModelArch arch, int maxClasses = DefaultMaxClasses)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxClasses, 1);
        Arch = arch;
        MaxClasses = maxClasses;
        Layout = ParameterLayout.For(arch, maxClasses);
    }

    /// <summary>The p-Model architecture.</summary>
    public PModelArch Arch { get; }

    /// <summary>Number of class slots K.</summary>
    public int MaxClasses { get; }

    /// <summary>The padded (max-class) layout; its length is the diffusion's P.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Embeds a C-class vector into the max-class layout; missing classifier rows and biases are zero.</summary>
    public float[] Pad(float[] vector, int numClasses)
    {
        var small = LayoutFor(numClasses);
        if (vector.Length != small.Count)
            throw new ArgumentException($"A {numClasses}-class {Arch.ToName()} vector has {small.Count} numbers; got {vector.Length}.", nameof(vector));
        var padded = new float[Layout.Count];
        foreach (var e in small.Entries)
            vector.AsSpan(e.Offset, e.Length).CopyTo(padded.AsSpan(Layout[e.Name].Offset));
        return padded;
    }

    /// <summary>Cuts a max-class vector (e.g. a generated one) back to its first <paramref name="numClasses"/> classes.</summary>
    public float[] Unpad(float[] padded, int numClasses)
    {
        var small = LayoutFor(numClasses);
        if (padded.Length != Layout.Count)
            throw new ArgumentException($"A padded {Arch.ToName()} vector has {Layout.Count} numbers; got {padded.Length}.", nameof(padded));
        var vector = new float[small.Count];
        foreach (var e in small.Entries)
            padded.AsSpan(Layout[e.Name].Offset, e.Length).CopyTo(vector.AsSpan(e.Offset));
        return vector;
    }

    /// <summary>Cuts a batch of max-class vectors [B, P] (all with <paramref name="numClasses"/> classes) to [B, P_C].</summary>
    public Tensor Unpad(Tensor padded, int numClasses)
    {
        var small = LayoutFor(numClasses);
        if (padded.ndim != 2 || padded.shape[1] != Layout.Count)
            throw new ArgumentException($"Expected padded vectors [B, {Layout.Count}]; got [{string.Join(", ", padded.shape)}].", nameof(padded));
        return cat(small.Entries.Select(e => padded.narrow(1, Layout[e.Name].Offset, e.Length)).ToList(), 1);
    }

    /// <summary>The mask [P] of a C-class p-Model in the padded layout: 1 for real parameters, 0 for padding.</summary>
    public float[] Mask(int numClasses)
    {
        var small = LayoutFor(numClasses);
        var mask = new float[Layout.Count];
        foreach (var e in small.Entries)
            mask.AsSpan(Layout[e.Name].Offset, e.Length).Fill(1f);
        return mask;
    }

    /// <summary>Masks [B, P] (float32, CPU) for a batch with the given class counts.</summary>
    public Tensor MaskTensor(IReadOnlyList<int> classCounts)
    {
        var data = new float[classCounts.Count * Layout.Count];
        for (int b = 0; b < classCounts.Count; b++) Mask(classCounts[b]).CopyTo(data, b * Layout.Count);
        return tensor(data, [classCounts.Count, Layout.Count]);
    }

    /// <summary>
    /// The K class tokens [K, D] of a prompt: its C class embeddings <paramref name="classEmbeddings"/> [C, D] in prompt
    /// order, then <paramref name="padEmbedding"/> [D] (the '&lt;-&gt;' token's embedding) in every missing slot.
    /// </summary>
    public Tensor PadClassTokens(Tensor classEmbeddings, Tensor padEmbedding)
    {
        if (classEmbeddings.ndim != 2) throw new ArgumentException("Class embeddings must be [C, D].", nameof(classEmbeddings));
        int c = (int)classEmbeddings.shape[0];
        CheckCount(c);
        long d = classEmbeddings.shape[1];
        if (padEmbedding.ndim != 1 || padEmbedding.shape[0] != d)
            throw new ArgumentException($"The padding embedding must be [{d}]; got [{string.Join(", ", padEmbedding.shape)}].", nameof(padEmbedding));
        if (c == MaxClasses) return classEmbeddings.clone();
        using var pads = padEmbedding.to(classEmbeddings.dtype).to(classEmbeddings.device).unsqueeze(0).expand(MaxClasses - c, d);
        return cat([classEmbeddings, pads], 0);
    }

    /// <summary>Builds the C-class p-Model of a generated max-class vector (padded rows dropped).</summary>
    public PModel ToPModel(float[] padded, IReadOnlyList<string> labels, IReadOnlyDictionary<string, NamedTensor>? frozen = null) =>
        new(Arch, labels, Unpad(padded, labels.Count), frozen);

    /// <summary>The layout of a <paramref name="numClasses"/>-class p-Model (checked against the maximum).</summary>
    public ParameterLayout LayoutFor(int numClasses)
    {
        CheckCount(numClasses);
        return ParameterLayout.For(Arch, numClasses);
    }

    private void CheckCount(int numClasses)
    {
        if (numClasses < 1 || numClasses > MaxClasses)
            throw new InvalidPromptException($"A prompt needs 1 to {MaxClasses} classes; got {numClasses}.");
    }
}
