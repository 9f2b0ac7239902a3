using static TorchSharp.torch;
using Tina.Runtime;

namespace Tina.Zoo;

/// <summary>
/// SGD with momentum over stacked parameters whose first dimension is the model (M p-Models trained at once).
/// Each model can be switched off for a step (its parameters and momentum stay untouched), so models with fewer
/// images per epoch follow exactly the updates they would get if trained alone. Plain elementwise SGD keeps the M
/// models independent; no global-norm clipping couples them. With <paramref name="anchors"/> (one tensor per
/// parameter) each step also pulls every number toward its anchor by <paramref name="anchorStrength"/> (L2-SP). With
/// <paramref name="rateScales"/> (one per parameter) each tensor's step uses that share of the model's learning rate.
/// </summary>
public sealed class MaskedSgd(IReadOnlyList<Tensor> parameters, double momentum = 0.9, double weightDecay = 0,
    IReadOnlyList<Tensor>? anchors = null, double anchorStrength = 0, IReadOnlyList<double>? rateScales = null)
{
    private readonly Tensor[] _buffers = parameters.Select(p => zeros_like(p)).ToArray();

    /// <summary>
    /// Applies one step with each model's learning rate <paramref name="lr"/> [M] to the models whose
    /// <paramref name="active"/> [M] entry is 1 (0 leaves parameters and momentum untouched), then clears gradients.
    /// </summary>
    public void Step(float[] lr, float[] active)
    {
        using var _ = no_grad();
        using var lrT = tensor(lr);
        using var activeT = tensor(active);
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            if (p.grad is null) continue;
            using var scope = NewDisposeScope();
            var shape = new long[p.dim()];
            Array.Fill(shape, 1L);
            shape[0] = p.shape[0];
            var m = activeT.view(shape);
            var rate = (lrT * activeT).view(shape);
            if (rateScales is not null && rateScales[i] != 1) rate = rate.Times(rateScales[i]);
            var g = weightDecay > 0 ? p.grad.Plus(p, weightDecay) : p.grad;
            if (anchors is not null && anchorStrength > 0) g = g.Plus(p, anchorStrength).Plus(anchors[i], -anchorStrength);
            var newBuf = _buffers[i].Times(momentum).Plus(g);
            _buffers[i].copy_(where(m.Greater(0), newBuf, _buffers[i]));
            p.sub_(_buffers[i] * rate);
            p.grad.zero_();
        }
    }
}
