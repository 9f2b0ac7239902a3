
using Tina.MLNet.IO;

namespace Tina.MLNet.Export;

/// <summary>
/// Folds an eval-mode batch norm into the convolution before it: BN(conv(x, W)) = conv(x, W′) + b′ with
/// W′[o] = W[o]·γ[o]/√(var[o]+ε) and b′[o] = β[o] − μ[o]·γ[o]/√(var[o]+ε). Computed in double precision and rounded
/// once to float, so the folded graph matches the unfolded network to float rounding.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>Batch-norm epsilon of every p-Model network (PyTorch's default).</summary>
    public const double Epsilon = 1e-5;

    /// <summary>
    /// The folded weight and bias of the bias-free convolution <paramref name="convWeight"/> ([O, I, kH, kW])
    /// followed by the batch norm with parameters <paramref name="gamma"/>, <paramref name="beta"/> and statistics
    /// <paramref name="mean"/>, <paramref name="variance"/> (each [O]).
    /// </summary>
    public static (float[] Weight, float[] Bias) Fold(NamedTensor convWeight, NamedTensor gamma, NamedTensor beta,
        NamedTensor mean, NamedTensor variance, double epsilon = Epsilon)
    {
        int outChannels = (int)convWeight.Shape[0];
        foreach (var t in new[] { gamma, beta, mean, variance })
            if (t.Data.Length != outChannels)
                throw new ArgumentException($"Batch-norm tensors must have {outChannels} values (one per output channel); got {t.Data.Length}.");
        int perChannel = convWeight.Data.Length / outChannels;
        var weight = new float[convWeight.Data.Length];
        var bias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            double scale = gamma.Data[o] / Math.Sqrt(variance.Data[o] + epsilon);
            for (int k = 0; k < perChannel; k++)
                weight[o * perChannel + k] = (float)(convWeight.Data[o * perChannel + k] * scale);
            bias[o] = (float)(beta.Data[o] - mean.Data[o] * scale);
        }
        return (weight, bias);
    }
}
