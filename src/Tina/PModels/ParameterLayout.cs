namespace Tina.PModels;

/// <summary>One tensor of a p-Model's parameter vector: its state-dict name, shape and offset in the flat vector.</summary>
/// <param name="Name">State-dict name, e.g. <c>conv1.weight</c>.</param>
/// <param name="Shape">Tensor shape.</param>
/// <param name="Offset">Index of its first element in the flat vector.</param>
public sealed record ParameterEntry(string Name, long[] Shape, int Offset)
{
    /// <summary>Number of elements.</summary>
    public int Length => (int)Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The personalized parameters of a p-Model as one flat vector: which tensors, in which order, at which offsets.
/// This is what the zoo stores and what Tina's diffusion generates. CNN-5K: conv1.weight (432), conv2.weight (4,608),
/// fc.weight (32·C), fc.bias (C) — 5,370 numbers for C = 10. ResNet-20: only the head, fc.weight (64·C) and fc.bias (C)
/// — 650 numbers for C = 10. ResNet-18: only the head, fc.weight (512·C) and fc.bias (C) — 5,130 numbers for C = 10.
/// </summary>
public sealed class ParameterLayout
{
    private ParameterLayout(PModelArch arch, int numClasses, IReadOnlyList<ParameterEntry> entries)
    {
        Arch = arch;
        NumClasses = numClasses;
        Entries = entries;
        Count = entries.Sum(e => e.Length);
    }

    /// <summary>The architecture.</summary>
    public PModelArch Arch { get; }

    /// <summary>Classifier rows (C).</summary>
    public int NumClasses { get; }

    /// <summary>The tensors, in vector order.</summary>
    public IReadOnlyList<ParameterEntry> Entries { get; }

    /// <summary>Length of the flat vector.</summary>
    public int Count { get; }

    /// <summary>Dimension of the classifier's input features (32 for CNN-5K, 64 for ResNet-20, 512 for ResNet-18).</summary>
    public int FeatureDim => Arch.FeatureDim();

    /// <summary>The entry named <paramref name="name"/>.</summary>
    public ParameterEntry this[string name] => Entries.FirstOrDefault(e => e.Name == name)
        ?? throw new KeyNotFoundException($"No tensor '{name}' in the {Arch.ToName()} layout.");

    /// <summary>The layout of <paramref name="arch"/> with a <paramref name="numClasses"/>-way classifier.</summary>
    public static ParameterLayout For(PModelArch arch, int numClasses)
    {
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), "A p-Model needs at least one class.");
        var shapes = arch switch
        {
            PModelArch.Cnn5k => new (string, long[])[]
            {
                ("conv1.weight", [16, 3, 3, 3]), ("conv2.weight", [32, 16, 3, 3]),
                ("fc.weight", [numClasses, 32]), ("fc.bias", [numClasses]),
            },
            PModelArch.ResNet20 or PModelArch.ResNet18 => [("fc.weight", [numClasses, arch.FeatureDim()]), ("fc.bias", [numClasses])],
            _ => throw new ArgumentOutOfRangeException(nameof(arch)),
        };
        var entries = new List<ParameterEntry>();
        int offset = 0;
        foreach (var (name, shape) in shapes)
        {
            var e = new ParameterEntry(name, shape, offset);
            entries.Add(e);
            offset += e.Length;
        }
        return new ParameterLayout(arch, numClasses, entries);
    }

    /// <summary>
    /// The same p-Model laid out for <paramref name="numClasses"/> classes: classifier rows and biases past the smaller
    /// of the two class counts are dropped (fewer classes) or zero (more); every other tensor is copied. The class
    /// dimension leads fc.weight and fc.bias, so the rows kept are a prefix of each tensor.
    /// </summary>
    public float[] Resize(float[] vector, int numClasses)
    {
        if (vector.Length != Count) throw new ArgumentException($"A {NumClasses}-class {Arch.ToName()} vector has {Count} numbers; got {vector.Length}.", nameof(vector));
        var target = For(Arch, numClasses);
        var result = new float[target.Count];
        foreach (var e in Entries)
        {
            var t = target[e.Name];
            vector.AsSpan(e.Offset, Math.Min(e.Length, t.Length)).CopyTo(result.AsSpan(t.Offset));
        }
        return result;
    }

    /// <summary>The slice of <paramref name="vector"/> that holds <paramref name="name"/>.</summary>
    public Span<float> Slice(float[] vector, string name)
    {
        var e = this[name];
        return vector.AsSpan(e.Offset, e.Length);
    }
}
