using Tina.Runtime;
using Tina.Zoo;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace Tina.Tests.Zoo;

public class MaskedSgdTests
{
    [Fact]
    public void L2SpPullsActiveModelsTowardTheirAnchorsOnly()
    {
        // Two stacked models with a zero loss gradient: only the pull toward the anchors moves them.
        var p = new Parameter(tensor(new[] { 2f, 2f, -3f, -3f }, [2, 2]));
        using var anchor = tensor(new[] { 1f, 0f, -3f, -3f }, [2, 2]);
        var sgd = new MaskedSgd([p], momentum: 0, weightDecay: 0, anchors: [anchor], anchorStrength: 0.5);
        for (int step = 0; step < 2; step++)
        {
            using (var loss = p.Times(0.0).sum()) loss.backward();
            sgd.Step([0.1f, 0.1f], [1f, 0f]);
        }
        // Model 0: w ← w − 0.1 · 0.5 · (w − w₀), twice: the gap shrinks by 0.95² = 0.9025. Model 1 is inactive.
        var w = p.data<float>().ToArray();
        Assert.Equal(1 + 0.9025f, w[0], 5);
        Assert.Equal(2 * 0.9025f, w[1], 5);
        Assert.Equal([-3f, -3f], w[2..]);
    }

    [Fact]
    public void RateScalesShareEachTensorsStep()
    {
        // Gradient 1 everywhere, no momentum: each tensor moves by lr · its share, and an inactive model not at all.
        var body = new Parameter(tensor(new[] { 1f, 1f }, [2, 1]));
        var head = new Parameter(tensor(new[] { 1f, 1f }, [2, 1]));
        var sgd = new MaskedSgd([body, head], momentum: 0, rateScales: [0.25, 1]);
        using (var loss = body.sum().Plus(head.sum())) loss.backward();
        sgd.Step([0.4f, 0.4f], [1f, 0f]);
        Assert.Equal(1 - 0.1f, body.data<float>()[0], 6);
        Assert.Equal(1 - 0.4f, head.data<float>()[0], 6);
        Assert.Equal(1f, body.data<float>()[1]);
        Assert.Equal(1f, head.data<float>()[1]);
    }

}
