using Tina.Diffusion;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Generation;

/// <summary>
/// The classifier-selection p-Models a generator trained with <see cref="GenerationBase.ClassifierSelection"/> adds its
/// output to: the generic model's personalized tensors (CNN-5K's convolutions, the classifier of every generic class)
/// and, for prompts naming a class the generic model does not have, the text embedding of every generic class. Such a
/// class starts from the row of the generic class whose embedding is nearest (cosine) to its conditioning vector;
/// a class the generic model has starts from its own row. Stored in the checkpoint's weights file, so generation needs
/// only the checkpoint.
/// </summary>
public sealed class SelectionBase
{
    private readonly Dictionary<string, int> _byKey = new(StringComparer.Ordinal);
    private readonly float[] _unitEmbeddings;

    /// <summary>
    /// A base from the generic model's <paramref name="tensors"/> (its layout tensors for <see cref="Classes"/>.Count
    /// classes) and the text <paramref name="embeddings"/> [classes, D] of its classes (a zero row: no embedding).
    /// </summary>
    /// <exception cref="ArgumentException">A tensor is missing or has another shape than the layout's.</exception>
    public SelectionBase(PModelArch arch, IReadOnlyList<string> classes, IReadOnlyDictionary<string, NamedTensor> tensors, NamedTensor embeddings)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (classes.Count == 0) throw new ArgumentException("The generic model has no classes.", nameof(classes));
        Layout = ParameterLayout.For(arch, classes.Count);
        foreach (var e in Layout.Entries)
            if (!tensors.TryGetValue(e.Name, out var t) || !t.Shape.SequenceEqual(e.Shape))
                throw new ArgumentException($"The classifier-selection base needs '{e.Name}' of shape [{string.Join(", ", e.Shape)}].", nameof(tensors));
        if (tensors.Count != Layout.Entries.Count) throw new ArgumentException("The classifier-selection base holds tensors outside the layout.", nameof(tensors));
        if (embeddings.Shape.Length != 2 || embeddings.Shape[0] != classes.Count)
            throw new ArgumentException($"The classifier-selection base needs one embedding per class ([{classes.Count}, D]).", nameof(embeddings));
        Classes = classes.ToArray();
        Tensors = tensors;
        Embeddings = embeddings;
        for (int i = 0; i < Classes.Count; i++) _byKey.TryAdd(ClassList.Key(Classes[i]), i);
        int d = (int)embeddings.Shape[1];
        _unitEmbeddings = new float[embeddings.Data.Length];
        for (int i = 0; i < Classes.Count; i++)
        {
            var row = embeddings.Data.AsSpan(i * d, d);
            double norm = Math.Sqrt(Dot(row, row));
            if (norm > 0)
                for (int j = 0; j < d; j++) _unitEmbeddings[i * d + j] = (float)(row[j] / norm);
        }
    }

    /// <summary>The generic model's classes, in label order (the rows of <c>fc.weight</c>).</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>The generic model's tensors in the layout of all its classes.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The tensors by state-dict name (what the checkpoint stores).</summary>
    public IReadOnlyDictionary<string, NamedTensor> Tensors { get; }

    /// <summary>The text embedding of every class [classes, D]; a zero row where the encoder had none.</summary>
    public NamedTensor Embeddings { get; }

    /// <summary>
    /// The base of <paramref name="generic"/>; <paramref name="encode"/> gives the conditioning vector of each class
    /// name (null where the text encoder has none), in the space the generator's class slots are in.
    /// </summary>
    public static SelectionBase FromGeneric(GenericModel generic, Func<IReadOnlyList<string>, float[]?[]> encode)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(encode);
        var classes = generic.Card.Classes;
        var all = StateDict.Export(generic.Network);
        var layout = ParameterLayout.For(generic.Arch, classes.Count);
        var tensors = layout.Entries.ToDictionary(e => e.Name, e => all[e.Name]);
        var vectors = encode(classes);
        int d = vectors.FirstOrDefault(v => v is not null)?.Length ?? throw new TinaException("The text encoder has a vector for none of the generic model's classes.");
        var table = new float[classes.Count * d];
        for (int i = 0; i < classes.Count; i++) vectors[i]?.CopyTo(table, i * d);
        return new SelectionBase(generic.Arch, classes, tensors, new NamedTensor([classes.Count, d], table));
    }

    /// <summary>
    /// The generic class a prompt's class starts from: the class named <paramref name="label"/> (any case, '_' = ' '),
    /// else the class whose embedding is nearest to <paramref name="vector"/>, the class's conditioning vector.
    /// </summary>
    public int Resolve(string label, ReadOnlySpan<float> vector)
    {
        if (_byKey.TryGetValue(ClassList.Key(label), out var known)) return known;
        int d = (int)Embeddings.Shape[1];
        if (vector.Length != d) throw new ArgumentException($"Expected a {d}-d conditioning vector; got {vector.Length}.", nameof(vector));
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < Classes.Count; i++)
        {
            double score = Dot(_unitEmbeddings.AsSpan(i * d, d), vector);
            if (score > bestScore) (best, bestScore) = (i, score);
        }
        return best;
    }

    /// <summary>The index of the generic class named <paramref name="name"/>.</summary>
    /// <exception cref="TinaException">The generic model has no such class.</exception>
    public int IndexOf(string name) => _byKey.TryGetValue(ClassList.Key(name), out var i) ? i
        : throw new TinaException($"The generic model has no class '{name}'.");

    /// <summary>
    /// Adds to <paramref name="padded"/> (a vector in <paramref name="padding"/>'s layout) the classifier-selection
    /// p-Model of the generic classes <paramref name="classes"/> in slot order: the generic tensors, and in slot s the
    /// row and bias of class <c>classes[s]</c>; slots past the classes (padding) get nothing.
    /// </summary>
    public void AddTo(Span<float> padded, SequencePadding padding, IReadOnlyList<int> classes)
    {
        if (padding.Arch != Layout.Arch) throw new ArgumentException($"The base is {Layout.Arch.ToName()}, the padding {padding.Arch.ToName()}.", nameof(padding));
        if (padded.Length != padding.Layout.Count) throw new ArgumentException($"Expected {padding.Layout.Count} numbers; got {padded.Length}.", nameof(padded));
        if (classes.Count > padding.MaxClasses) throw new ArgumentException($"{classes.Count} classes do not fit {padding.MaxClasses} slots.", nameof(classes));
        foreach (var e in padding.Layout.Entries)
        {
            var source = Tensors[e.Name].Data;
            var target = padded.Slice(e.Offset, e.Length);
            if (e.Name is "fc.weight" or "fc.bias")
            {
                int width = e.Name == "fc.bias" ? 1 : Layout.FeatureDim;
                for (int s = 0; s < classes.Count; s++)
                    Add(target.Slice(s * width, width), source.AsSpan(classes[s] * width, width));
            }
            else Add(target, source);
        }
    }

    private static void Add(Span<float> target, ReadOnlySpan<float> source)
    {
        for (int i = 0; i < target.Length; i++) target[i] += source[i];
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }
}
