using Tina.Data;
using Tina.Generic;
using Tina.PModels;
using Tina.Text;
using static TorchSharp.torch;

namespace Tina.ImagePrompts;

/// <summary>
/// The projected training images of every class, for training a generator on image prompts (few-shot, the paper's
/// Figure 6a): each image's generic-model features go through the <see cref="ImagePromptProjector"/> once, and a class
/// shown by K images is the normalised mean of K of them drawn at random — the conditioning vector
/// <see cref="ImagePromptProjector.Embed(GenericModel, ImageSet, IReadOnlyList{int})"/> gives for the same images.
/// </summary>
public sealed class ImagePromptPool
{
    private readonly float[][] _vectors;   // per class: [images · D] row-major
    private readonly Dictionary<string, int> _index;

    private ImagePromptPool(IReadOnlyList<string> classNames, float[][] vectors, int dimension)
    {
        ClassNames = classNames;
        _vectors = vectors;
        Dimension = dimension;
        _index = classNames.Select((n, i) => (n, i)).ToDictionary(x => x.n, x => x.i, StringComparer.Ordinal);
    }

    /// <summary>The dataset's class names, in label order.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Length of a conditioning vector (the text encoder's dimension).</summary>
    public int Dimension { get; }

    /// <summary>Projects every training image of <paramref name="data"/> through <paramref name="generic"/>'s features and <paramref name="projector"/>.</summary>
    public static ImagePromptPool Build(ImagePromptProjector projector, GenericModel generic, ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(projector);
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(data);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = projector.Project(Accuracy.Features(generic.Network, data.Train)).contiguous().data<float>().ToArray();
        int d = projector.TextDim;
        var vectors = new float[data.NumClasses][];
        for (int c = 0; c < data.NumClasses; c++)
        {
            var idx = data.Train.IndicesOf(new HashSet<int> { c });
            vectors[c] = new float[idx.Length * d];
            for (int i = 0; i < idx.Length; i++) z.AsSpan(idx[i] * d, d).CopyTo(vectors[c].AsSpan(i * d));
        }
        return new ImagePromptPool(data.ClassNames, vectors, d);
    }

    /// <summary>The class index of <paramref name="name"/>, or -1 when the dataset has no such class.</summary>
    public int IndexOf(string name) => _index.GetValueOrDefault(name, -1);

    /// <summary>Number of training images of class <paramref name="classIndex"/>.</summary>
    public int Count(int classIndex) => _vectors[classIndex].Length / Dimension;

    /// <summary>
    /// The conditioning vector of class <paramref name="classIndex"/> shown by <paramref name="shots"/> of its training
    /// images drawn without replacement by <paramref name="rng"/> (all of them when it has fewer), written to <paramref name="into"/>.
    /// </summary>
    public void Sample(int classIndex, int shots, Random rng, Span<float> into)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shots, 1);
        if (into.Length != Dimension) throw new ArgumentException($"Expected {Dimension} numbers.", nameof(into));
        var all = _vectors[classIndex];
        int n = Count(classIndex);
        if (n == 0) throw new TinaException($"The class '{ClassNames[classIndex]}' has no training images to prompt with.");
        into.Clear();
        var picked = new HashSet<int>();
        int k = Math.Min(shots, n);
        while (picked.Count < k)
        {
            int i = rng.Next(n);
            if (!picked.Add(i)) continue;
            var v = all.AsSpan(i * Dimension, Dimension);
            for (int j = 0; j < Dimension; j++) into[j] += v[j];
        }
        TextVectors.Normalize(into);
    }
}
