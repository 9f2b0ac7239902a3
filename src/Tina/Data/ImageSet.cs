using static TorchSharp.torch;
using Tina.Runtime;

namespace Tina.Data;

/// <summary>
/// A split of a dataset held in memory: N RGB images of 32×32 as bytes in CHW order (3·32·32 = 3,072 bytes per image,
/// red plane, then green, then blue; rows top to bottom) and one class index per image.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Side of every image, in pixels.</summary>
    public const int Side = 32;

    /// <summary>Bytes per image (3 × 32 × 32).</summary>
    public const int ImageBytes = 3 * Side * Side;

    /// <summary>Creates a split; <paramref name="pixels"/> must hold <c>labels.Length × 3072</c> bytes.</summary>
    public ImageSet(byte[] pixels, int[] labels)
    {
        if (pixels.Length != (long)labels.Length * ImageBytes)
            throw new ArgumentException($"Expected {labels.Length} × {ImageBytes} pixel bytes, got {pixels.Length}.");
        Pixels = pixels;
        Labels = labels;
    }

    /// <summary>Pixel bytes, image after image, CHW.</summary>
    public byte[] Pixels { get; }

    /// <summary>Class index of each image.</summary>
    public int[] Labels { get; }

    /// <summary>Number of images.</summary>
    public int Count => Labels.Length;

    /// <summary>The 3,072 bytes of image <paramref name="i"/>.</summary>
    public ReadOnlySpan<byte> Image(int i) => Pixels.AsSpan(i * ImageBytes, ImageBytes);

    /// <summary>
    /// The set this one was cut from by <see cref="Subset"/> and the positions of its images there (null for a set
    /// made from pixels): per-image results computed for the parent, such as backbone features, serve the subset too.
    /// </summary>
    public (ImageSet Set, int[] Indices)? Parent { get; private init; }

    /// <summary>
    /// For a set made by <see cref="Concat"/>: the sets it joined, in order (each whole). Per-image results computed for
    /// them, such as backbone features, serve the joined set too. Null otherwise.
    /// </summary>
    public IReadOnlyList<ImageSet>? Parts { get; private init; }

    /// <summary>
    /// The images of <paramref name="sets"/> one set after the other, each image's label mapped by the matching entry
    /// of <paramref name="relabel"/> (label of that set → label of the result).
    /// </summary>
    /// <exception cref="ArgumentException">The counts of sets and label maps differ, or a label has no mapping.</exception>
    public static ImageSet Concat(IReadOnlyList<ImageSet> sets, IReadOnlyList<IReadOnlyList<int>> relabel)
    {
        ArgumentNullException.ThrowIfNull(sets);
        ArgumentNullException.ThrowIfNull(relabel);
        if (sets.Count != relabel.Count) throw new ArgumentException($"{sets.Count} sets but {relabel.Count} label maps.", nameof(relabel));
        var pixels = new byte[sets.Sum(x => (long)x.Pixels.Length)];
        var labels = new int[sets.Sum(x => x.Count)];
        int offset = 0;
        for (int k = 0; k < sets.Count; k++)
        {
            sets[k].Pixels.CopyTo(pixels, (long)offset * ImageBytes);
            for (int i = 0; i < sets[k].Count; i++)
            {
                int label = sets[k].Labels[i];
                labels[offset + i] = label < relabel[k].Count ? relabel[k][label] : throw new ArgumentException($"Label {label} of set {k} has no mapping.", nameof(relabel));
            }
            offset += sets[k].Count;
        }
        return new ImageSet(pixels, labels) { Parts = [.. sets] };
    }

    /// <summary>A new set holding copies of the images at <paramref name="indices"/>, in that order.</summary>
    public ImageSet Subset(IReadOnlyList<int> indices)
    {
        var pixels = new byte[indices.Count * ImageBytes];
        var labels = new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            Image(indices[k]).CopyTo(pixels.AsSpan(k * ImageBytes, ImageBytes));
            labels[k] = Labels[indices[k]];
        }
        return new ImageSet(pixels, labels) { Parent = (this, indices.ToArray()) };
    }

    /// <summary>Indices of the images whose label is in <paramref name="classes"/>.</summary>
    public int[] IndicesOf(IReadOnlySet<int> classes)
    {
        var list = new List<int>();
        for (int i = 0; i < Labels.Length; i++) if (classes.Contains(Labels[i])) list.Add(i);
        return list.ToArray();
    }

    /// <summary>
    /// The images at <paramref name="indices"/> as a float tensor [n, 3, 32, 32] with values in [0, 1]
    /// (not yet normalised; see <see cref="PModels.Normalization"/>).
    /// </summary>
    public Tensor ToTensor(ReadOnlySpan<int> indices)
    {
        var buf = new byte[indices.Length * ImageBytes];
        for (int k = 0; k < indices.Length; k++)
            Image(indices[k]).CopyTo(buf.AsSpan(k * ImageBytes, ImageBytes));
        using var bytes = tensor(buf, [indices.Length, 3, 32, 32]);
        return bytes.to_type(ScalarType.Float32).DivideInPlace(255.0);
    }
}
