using Tina.Diffusion;
using Tina.MLNet.Errors;
using Tina.PModels;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

public class SequencePaddingTests
{
    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void ThreeClassModelPadsAndUnpadsToItself(PModelArch arch)
    {
        var padding = new SequencePadding(arch);
        var small = ParameterLayout.For(arch, 3);
        var v = RandomVector(1, small.Count);
        var padded = padding.Pad(v, 3);
        Assert.Equal(padding.Layout.Count, padded.Length);
        Assert.Equal(v, padding.Unpad(padded, 3));
        var mask = padding.Mask(3);
        Assert.Equal(small.Count, (int)mask.Sum());
        for (int j = 0; j < padded.Length; j++)
            if (mask[j] == 0) Assert.Equal(0f, padded[j]);
        // The batched tensor version agrees.
        using var batch = tensor(padded, [1, padded.Length]);
        using var cut = padding.Unpad(batch, 3);
        Assert.Equal(v, Values(cut));
    }

    [Fact]
    public void PaddedCnnKeepsTheRealLogitsAndZerosTheRest()
    {
        var padding = new SequencePadding(PModelArch.Cnn5k);
        var v = RandomVector(2, ParameterLayout.For(PModelArch.Cnn5k, 3).Count);
        using var images = Randn(3, 4, 3, 32, 32);
        using var small = new PModel(PModelArch.Cnn5k, ["a", "b", "c"], v).ToNetwork();
        using var big = new PModel(PModelArch.Cnn5k, Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray(), padding.Pad(v, 3)).ToNetwork();
        using var _ = no_grad();
        using var ys = small.forward(images);
        using var yb = big.forward(images);
        Assert.True(yb.narrow(1, 0, 3).allclose(ys, rtol: 1e-5, atol: 1e-6));
        Assert.Equal(0f, yb.narrow(1, 3, 7).abs().max().item<float>());
        Assert.Equal(["x", "y", "z"], padding.ToPModel(padding.Pad(v, 3), ["x", "y", "z"]).Labels);
    }

    [Fact]
    public void MissingSlotsGetThePadToken()
    {
        var padding = new SequencePadding(PModelArch.ResNet20);
        using var emb = Randn(1, 3, 8);
        using var pad = Randn(2, 8);
        using var tokens = padding.PadClassTokens(emb, pad);
        Assert.Equal([10L, 8], tokens.shape);
        Assert.True(tokens.narrow(0, 0, 3).equal(emb).all().item<bool>());
        for (int k = 3; k < 10; k++) Assert.True(tokens[k].equal(pad).all().item<bool>());
        Assert.Equal("<->", SequencePadding.PadToken);
    }

    [Fact]
    public void MaskTensorRowsFollowClassCounts()
    {
        var padding = new SequencePadding(PModelArch.ResNet20);
        using var m = padding.MaskTensor([1, 10]);
        Assert.Equal([2L, 650], m.shape);
        Assert.Equal(65f, m[0].sum().item<float>());
        Assert.Equal(650f, m[1].sum().item<float>());
    }

    [Fact]
    public void InvalidClassCountsAreInvalidPrompts()
    {
        var padding = new SequencePadding(PModelArch.Cnn5k);
        Assert.Throws<InvalidPromptException>(() => padding.Mask(0));
        Assert.Throws<InvalidPromptException>(() => padding.Mask(11));
        Assert.Throws<ArgumentException>(() => padding.Pad(new float[10], 3));
    }
}
