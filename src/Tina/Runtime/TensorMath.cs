using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Runtime;

/// <summary>
/// Tensor arithmetic that keeps every <see cref="Scalar"/> alive for the whole native call.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns numbers into <see cref="Scalar"/> objects that own native memory and are freed by a finalizer.
/// Many of its overloads (<c>a + b</c>, <c>add_(b)</c>, <c>t * 0.5</c>, <c>1 - t</c>, implicit conversions) create such
/// a Scalar and drop the last reference the moment its handle is read, so a garbage collection during the native call
/// can free it while libtorch still reads it (errors like "Unknown scalar type", or silently wrong numbers). Every
/// method here either passes a process-lifetime Scalar or disposes its Scalar only after the call returns. The banned
/// overloads are listed in <c>build/BannedSymbols.txt</c> and rejected by the compiler in product code.
/// </remarks>
public static class TensorMath
{
    // Rooted for the life of the process, so the finalizer can never free them.
    private static readonly Scalar One = 1.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> + <paramref name="alpha"/> · <paramref name="b"/>.</summary>
    public static Tensor Plus(this Tensor a, Tensor b, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.add(b, s);
    }

    /// <summary><paramref name="a"/> + <paramref name="value"/>.</summary>
    public static Tensor Plus(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.add(s, One);
    }

    /// <summary>In place: <paramref name="a"/> += <paramref name="b"/>.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>In place: <paramref name="a"/> += <paramref name="alpha"/> · <paramref name="b"/>.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b, double alpha)
    {
        using var s = alpha.ToScalar();
        return a.add_(b, s);
    }

    /// <summary>In place: <paramref name="a"/> += <paramref name="value"/>.</summary>
    public static Tensor PlusInPlace(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.add_(s, One);
    }

    /// <summary>In place: <paramref name="a"/> += <paramref name="value"/> (integer tensors stay integer).</summary>
    public static Tensor PlusInPlace(this Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.add_(s, One);
    }

    /// <summary><paramref name="a"/> · <paramref name="value"/>.</summary>
    public static Tensor Times(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary>In place: <paramref name="a"/> ·= <paramref name="value"/>.</summary>
    public static Tensor TimesInPlace(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.mul_(s);
    }

    /// <summary>In place: <paramref name="a"/> /= <paramref name="value"/>.</summary>
    public static Tensor DivideInPlace(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.div_(s);
    }

    /// <summary><paramref name="value"/> − <paramref name="a"/>.</summary>
    public static Tensor SubtractFrom(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        using var negated = a.neg();
        return negated.add(s, One);
    }

    /// <summary><paramref name="a"/> · <paramref name="x"/> + <paramref name="b"/> · <paramref name="y"/> (two scaled tensors summed).</summary>
    public static Tensor Combine(double a, Tensor x, double b, Tensor y)
    {
        using var ax = x.Times(a);
        return ax.Plus(y, b);
    }

    /// <summary>Element-wise <paramref name="a"/> &gt; <paramref name="value"/>.</summary>
    public static Tensor Greater(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.gt(s);
    }

    /// <summary>Element-wise max(<paramref name="a"/>, <paramref name="min"/>).</summary>
    public static Tensor AtLeast(this Tensor a, double min)
    {
        using var s = min.ToScalar();
        return a.clamp_min(s);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with the integer <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, long value, ScalarType dtype, Device? device = null)
    {
        using var s = value.ToScalar();
        return full(shape, s, dtype, device);
    }

    /// <summary>
    /// In place: <paramref name="a"/> += <paramref name="value"/> · <paramref name="t1"/> / <paramref name="t2"/> (the Adam update).
    /// </summary>
    public static Tensor AddDivideInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var s = value.ToScalar();
        return a.addcdiv_(t1, t2, s);
    }

    /// <summary>In place: <paramref name="a"/> += <paramref name="value"/> · <paramref name="t1"/> · <paramref name="t2"/>.</summary>
    public static Tensor AddProductInPlace(this Tensor a, Tensor t1, Tensor t2, double value)
    {
        using var s = value.ToScalar();
        return a.addcmul_(t1, t2, s);
    }
}
