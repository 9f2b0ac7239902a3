using static TorchSharp.torch;

namespace Tina.Runtime.Optim;

/// <summary>
/// Stochastic gradient descent with momentum (optionally Nesterov) and L2 weight decay added to the gradient, the
/// arithmetic of <c>torch.optim.SGD</c> without dampening.
/// </summary>
/// <param name="groups">Parameter groups with their weight decay.</param>
/// <param name="learningRate">Initial learning rate.</param>
/// <param name="momentum">Momentum (0 for plain SGD).</param>
/// <param name="nesterov">Use Nesterov momentum.</param>
public sealed class Sgd(IEnumerable<ParameterGroup> groups, double learningRate, double momentum = 0.9, bool nesterov = false)
    : Optimizer(groups, learningRate, slots: 1)
{
    /// <inheritdoc />
    protected override string Name => "sgd";

    /// <inheritdoc />
    protected override void Update(Tensor p, Tensor grad, Tensor[] state, double weightDecay)
    {
        var g = weightDecay != 0 ? grad.Plus(p, weightDecay) : grad;
        if (momentum != 0)
        {
            // A zero buffer makes the first step buf = g, as torch's clone of the first gradient.
            var buf = state[0].TimesInPlace(momentum).PlusInPlace(g);
            g = nesterov ? g.Plus(buf, momentum) : buf;
        }
        p.PlusInPlace(g, -LearningRate);
    }
}
