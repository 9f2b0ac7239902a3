using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tina.Runtime.Optim;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter): Adam with decoupled weight decay, the arithmetic of <c>torch.optim.AdamW</c>
/// (bias-corrected moments, ε added after the square root, decay applied as <c>p ← p·(1 − lr·wd)</c>).
/// </summary>
/// <param name="groups">Parameter groups with their weight decay.</param>
/// <param name="learningRate">Initial learning rate.</param>
/// <param name="beta1">Decay of the first moment.</param>
/// <param name="beta2">Decay of the second moment.</param>
/// <param name="eps">Added to the denominator.</param>
public sealed class AdamW(IEnumerable<ParameterGroup> groups, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    : Optimizer(groups, learningRate, slots: 2)
{
    /// <summary>One group with the same weight decay for all <paramref name="parameters"/>.</summary>
    public AdamW(IEnumerable<Parameter> parameters, double learningRate, double weightDecay)
        : this([new ParameterGroup(parameters.ToArray(), weightDecay)], learningRate) { }

    /// <inheritdoc />
    protected override string Name => "adamw";

    /// <inheritdoc />
    protected override void Update(Tensor p, Tensor grad, Tensor[] state, double weightDecay)
    {
        double lr = LearningRate;
        var (m, v) = (state[0], state[1]);
        if (weightDecay != 0) p.TimesInPlace(1 - lr * weightDecay);
        m.TimesInPlace(beta1).PlusInPlace(grad, 1 - beta1);
        v.TimesInPlace(beta2).AddProductInPlace(grad, grad, 1 - beta2);
        double bias1 = 1 - Math.Pow(beta1, StepCount), bias2 = 1 - Math.Pow(beta2, StepCount);
        var denom = v.sqrt().DivideInPlace(Math.Sqrt(bias2)).PlusInPlace(eps);
        p.AddDivideInPlace(m, denom, -lr / bias1);
    }
}
