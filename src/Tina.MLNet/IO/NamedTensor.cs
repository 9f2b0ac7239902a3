namespace Tina.MLNet.IO;

/// <summary>A named float32 tensor: its shape and its values in row-major order.</summary>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Data">Row-major values; its length is the product of <paramref name="Shape"/>.</param>
public sealed record NamedTensor(long[] Shape, float[] Data)
{
    /// <summary>Number of elements implied by <see cref="Shape"/>.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
