using Tina.Diffusion;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Runtime;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

public class ClassifierAugmentationTests
{
    private static readonly string[] Labels = Enumerable.Range(0, 10).Select(i => $"class{i}").ToArray();

    private static Tensor Logits(PModel p, Tensor images)
    {
        using var net = p.ToNetwork();
        using var _ = no_grad();
        return net.forward(images);
    }

    [Fact]
    public void PermutingClassesPermutesTheLogitColumns()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        var v = RandomVector(1, layout.Count);
        int[] perm = [3, 0, 9, 1, 2, 8, 4, 7, 6, 5];
        var permuted = ClassifierAugmentation.Permute(v, layout, perm);
        using var images = Randn(2, 6, 3, 32, 32);
        using var before = Logits(new PModel(PModelArch.Cnn5k, Labels, v), images);
        using var after = Logits(new PModel(PModelArch.Cnn5k, perm.Select(i => Labels[i]).ToArray(), permuted), images);
        using var expected = before.index_select(1, tensor(perm.Select(i => (long)i).ToArray()));
        Assert.True(after.allclose(expected, rtol: 1e-5, atol: 1e-6));
        // The convolutions are untouched.
        Assert.Equal(v.AsSpan(0, 5040).ToArray(), permuted.AsSpan(0, 5040).ToArray());
    }

    [Fact]
    public void BatchApplyMovesTokensRowsAndBiasesTogether()
    {
        var layout = ParameterLayout.For(PModelArch.ResNet20, 10);
        var padding = new SequencePadding(PModelArch.ResNet20);
        var aug = new ClassifierAugmentation(layout);
        int[] counts = [3, 10];
        using var mask = padding.MaskTensor(counts);
        using var x = Randn(1, 2, layout.Count) * mask;
        using var tokens = Randn(2, 2, 10, 5);
        using var g = new Generator(7, CPU);
        var (px, pt, perms) = aug.Apply(x, tokens, counts, g);
        Assert.Equal(3, perms[0].Length);
        Assert.Equal(10, perms[1].Length);
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(ClassifierAugmentation.Permute(Values(x[b]), layout, perms[b]), Values(px[b]));
            for (int s = 0; s < 10; s++)
            {
                int from = s < perms[b].Length ? perms[b][s] : s;
                Assert.Equal(Values(tokens[b, from]), Values(pt[b, s]));
            }
        }
        // Padding stays padding: the mask still describes the augmented batch.
        Assert.True((px * mask.SubtractFrom(1.0)).abs().max().item<float>() == 0f);
        // Seeded: the same generator seed gives the same permutations.
        using var g2 = new Generator(7, CPU);
        Assert.Equal(perms, aug.Apply(x, tokens, counts, g2).Permutations);
    }

    [Fact]
    public void NeuronPermutationKeepsTheFunction()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        var aug = new NeuronPermutationAugmentation(layout);
        var v = RandomVector(3, layout.Count);
        using var g = new Generator(4, CPU);
        using var batch = tensor(v, [1, layout.Count]);
        var w = Values(aug.Apply(batch, g));
        Assert.NotEqual(v, w);
        Assert.Equal(v.OrderBy(f => f), w.OrderBy(f => f));
        using var images = Randn(5, 6, 3, 32, 32);
        using var before = Logits(new PModel(PModelArch.Cnn5k, Labels, v), images);
        using var after = Logits(new PModel(PModelArch.Cnn5k, Labels, w), images);
        Assert.True(after.allclose(before, rtol: 1e-4, atol: 1e-5));
        Assert.Throws<TinaException>(() => new NeuronPermutationAugmentation(ParameterLayout.For(PModelArch.ResNet20, 10)));
    }

    [Fact]
    public void RejectsNonPermutations()
    {
        var layout = ParameterLayout.For(PModelArch.ResNet20, 10);
        Assert.Throws<ArgumentException>(() => ClassifierAugmentation.PermutationIndex(layout, [0, 0, 1]));
        Assert.Throws<ArgumentException>(() => ClassifierAugmentation.PermutationIndex(layout, [0, 3]));
    }
}
