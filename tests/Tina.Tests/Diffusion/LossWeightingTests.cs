using Tina.Diffusion;
using Tina.PModels;

namespace Tina.Tests.Diffusion;

public class LossWeightingTests
{
    [Fact]
    public void UniformIsAllOnes()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        Assert.All(LossWeights.For(layout, LossWeighting.Uniform), w => Assert.Equal(1f, w));
    }

    [Fact]
    public void PerTensorGivesEveryTensorTheSameShareAndKeepsTheMeanAtOne()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        var w = LossWeights.For(layout, LossWeighting.PerTensor);
        Assert.Equal(5370, w.Length);
        var shares = layout.Entries.Select(e => w.AsSpan(e.Offset, (int)e.Shape.Aggregate(1L, (a, b) => a * b)).ToArray().Sum()).ToArray();
        Assert.Equal(4, shares.Length); // conv1.weight, conv2.weight, fc.weight, fc.bias
        Assert.All(shares, s => Assert.Equal(5370.0 / 4, s, 1e-2));
        Assert.Equal(1.0, w.Average(), 1e-4);
        // The 10 classifier biases weigh far more each than the 4,608 conv2 weights.
        Assert.True(w[layout["fc.bias"].Offset] > 100 * w[layout["conv2.weight"].Offset]);
    }

    [Fact]
    public void ClassifierWeighsTheRowsAndBiasesFullyAndTheBodyLightly()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        var w = LossWeights.For(layout, LossWeighting.Classifier);
        Assert.All(w.AsSpan(0, layout["fc.weight"].Offset).ToArray(), x => Assert.Equal(LossWeights.BodyWeight, x));
        Assert.All(w.AsSpan(layout["fc.weight"].Offset).ToArray(), x => Assert.Equal(1f, x));
        // A head-only p-Model is all classifier: the same as uniform.
        Assert.Equal(LossWeights.For(ParameterLayout.For(PModelArch.ResNet20, 10), LossWeighting.Uniform),
            LossWeights.For(ParameterLayout.For(PModelArch.ResNet20, 10), LossWeighting.Classifier));
    }
}
