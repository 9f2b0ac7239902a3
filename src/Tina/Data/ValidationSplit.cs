namespace Tina.Data;

/// <summary>
/// A validation split carved from a dataset's training images: a seeded <see cref="Fraction"/> of every class's
/// training images (see <see cref="ImageDataset.WithValidationSplit"/>). Settings are chosen on it; the test split only
/// reports.
/// </summary>
/// <param name="Fraction">Share of each class's training images held out, in (0, 1).</param>
/// <param name="Seed">Seed of the per-class shuffle that picks them.</param>
public sealed record ValidationSplit(double Fraction, int Seed)
{
    /// <summary>
    /// The dataset whose training split is <paramref name="data"/>'s minus these images and whose test split is these
    /// images.
    /// </summary>
    public ImageDataset Apply(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithValidationSplit(Fraction, Seed);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Fraction:P0} of each class's training images (seed {Seed})";
}
