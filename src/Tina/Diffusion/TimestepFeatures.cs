using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// The frequency encoding of the diffusion step (G.pt's, used by Tina): 128 frequencies 2^linspace(0, 14, 128)
/// multiplied by the integer step t (0…999, not rescaled), giving [sin(f·t), cos(f·t), t] = 257 features. Computed in
/// double precision (the products reach ~1.6·10⁷, where float32 phases would be rounded) and returned as float32.
/// </summary>
public static class TimestepFeatures
{
    /// <summary>Number of frequencies.</summary>
    public const int Frequencies = 128;

    /// <summary>log2 of the largest frequency.</summary>
    public const double MaxLog2Frequency = 14.0;

    /// <summary>Feature count: sines, cosines and the raw step.</summary>
    public const int Size = 2 * Frequencies + 1;

    /// <summary>Features [B, 257] (float32, on the device of <paramref name="t"/>) for integer steps <paramref name="t"/> [B].</summary>
    public static Tensor Encode(Tensor t)
    {
        if (t.ndim != 1) throw new ArgumentException($"Timesteps must be [B]; got [{string.Join(", ", t.shape)}].", nameof(t));
        using var scope = NewDisposeScope();
        var freqs = pow(2.0, linspace(0.0, MaxLog2Frequency, Frequencies, dtype: ScalarType.Float64, device: t.device));
        var tt = t.to(ScalarType.Float64).unsqueeze(1);
        var phase = tt * freqs.unsqueeze(0);
        return cat([phase.sin(), phase.cos(), tt], 1).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }
}
