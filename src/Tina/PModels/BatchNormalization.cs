using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tina.PModels;

/// <summary>
/// Batch normalisation over the channels of an [N, C, H, W] tensor: the parameters, buffers, names and arithmetic of
/// PyTorch's <c>BatchNorm2d</c> (fixed momentum 0.1, ε = 1e-5), computed by libtorch's <c>batch_norm</c>.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>BatchNorm2d</c> counts batches with <c>num_batches_tracked.add_(1)</c>, which hands libtorch a
/// Scalar that the finalizer may free during the call (see <see cref="Runtime.TensorMath"/>); with a fixed momentum the
/// count is never read, so this module does not keep it (it was never part of the saved float weights either).
/// </remarks>
public sealed class BatchNormalization : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight, bias;
    private readonly Tensor running_mean, running_var;
    private readonly double _eps;

    /// <summary>Creates a batch norm over <paramref name="channels"/> channels (γ = 1, β = 0, running mean 0, variance 1).</summary>
    public BatchNormalization(long channels, double momentum = 0.1, double eps = 1e-5) : base(nameof(BatchNormalization))
    {
        Momentum = momentum;
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        running_mean = zeros(channels);
        running_var = ones(channels);
        register_parameter(nameof(weight), weight);
        register_parameter(nameof(bias), bias);
        register_buffer(nameof(running_mean), running_mean);
        register_buffer(nameof(running_var), running_var);
    }

    /// <summary>Weight of the running-statistics update (1 makes the running statistics those of the last training batch).</summary>
    public double Momentum { get; set; }

    /// <summary>The scale γ [C].</summary>
    public Parameter Weight => weight;

    /// <summary>The shift β [C].</summary>
    public Parameter Bias => bias;

    /// <summary>The running mean [C] used in evaluation mode.</summary>
    public Tensor RunningMean => running_mean;

    /// <summary>The running variance [C] used in evaluation mode.</summary>
    public Tensor RunningVar => running_var;

    /// <summary>Normalises with batch statistics in training mode (updating the running ones), else with the running ones.</summary>
    public override Tensor forward(Tensor x) =>
        nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training, Momentum, _eps);
}
