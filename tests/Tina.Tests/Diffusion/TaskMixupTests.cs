using Tina.Diffusion;
using Tina.Generation;
using Tina.IO;
using Tina.MLNet.Errors;
using Tina.MLNet.IO;
using Tina.Tests.Generation;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

/// <summary>Task mixup: tokens and parameters blended with the same weight, the smaller class count kept.</summary>
public class TaskMixupTests
{
    [Fact]
    public void EachBlendedSampleIsItsOwnTimesLambdaPlusItsPartnersTimesOneMinusLambda()
    {
        var mixup = new TaskMixup(0.5);
        using var x = Randn(1, 6, 7);
        using var tokens = Randn(2, 6, 10, 4);
        int[] counts = [2, 10, 5, 3, 7, 9];
        var (partners, weights) = mixup.Draw(6, new Random(11));
        var (mx, mt, mc) = mixup.Apply(x, tokens, counts, new Random(11));
        Assert.Contains(partners.Select((p, j) => p != j), blended => blended);
        Assert.Contains(partners.Select((p, j) => p == j), kept => kept);
        float[] xs = Values(x), ts = Values(tokens), mxs = Values(mx), mts = Values(mt);
        for (int j = 0; j < 6; j++)
        {
            int q = (int)partners[j];
            float l = weights[j];
            if (q == j) Assert.Equal(1f, l);
            Assert.Equal(Math.Min(counts[j], counts[q]), mc[j]);
            for (int i = 0; i < 7; i++) Assert.Equal(l * xs[j * 7 + i] + (1 - l) * xs[q * 7 + i], mxs[j * 7 + i], 1e-5);
            for (int i = 0; i < 40; i++) Assert.Equal(l * ts[j * 40 + i] + (1 - l) * ts[q * 40 + i], mts[j * 40 + i], 1e-5);
        }
    }

    [Fact]
    public void ProbabilityZeroOrOneSampleChangesNothingAndOneBlendsEverySampleWithAnother()
    {
        using var x = Randn(3, 4, 5);
        using var tokens = Randn(4, 4, 3, 2);
        var (same, sameTokens, counts) = new TaskMixup(0).Apply(x, tokens, [1, 2, 3, 3], new Random(1));
        Assert.Equal(Values(x), Values(same));
        Assert.Equal(Values(tokens), Values(sameTokens));
        Assert.Equal([1, 2, 3, 3], counts);
        var (partners, _) = new TaskMixup(1).Draw(5, new Random(2));
        Assert.All(Enumerable.Range(0, 5), j => Assert.NotEqual(j, partners[j]));
        Assert.Equal([0L], new TaskMixup(1).Draw(1, new Random(2)).Partners);
        // The same generator state draws the same blends (a resumed run blends the same samples).
        var (p1, w1) = new TaskMixup(0.5).Draw(8, new Random(9));
        var (p2, w2) = new TaskMixup(0.5).Draw(8, new Random(9));
        Assert.Equal(p1, p2);
        Assert.Equal(w1, w2);
    }

    [Fact]
    public void AProbabilityOutsideZeroToOneAndWholeNetworksAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskMixup(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TaskMixup(double.NaN));
        var e = Assert.Throws<TinaException>(() => (GenerationFixture.Options(1) with { TaskMixup = -0.1 }).Validate());
        Assert.Contains("task-mixup", e.Message);
        using var encoder = new HashTextEncoder();
        var cnn = Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(1) with { TaskMixup = 0.5 }, encoder)
            .Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "tina-mixup-cnn")));
        Assert.Contains("no-mixup", cnn.Message);
    }

    [Fact]
    public void TheRecipeTrainsWithMixupAndTheSameSeedGivesTheSameWeights()
    {
        Assert.Equal(0.5, TinaTrainingOptions.FromRecipe(Recipes.ResNet18Heads).TaskMixup);
        Assert.Equal(0, TinaTrainingOptions.FromRecipe(Recipes.ResNet20Heads).TaskMixup);
        string Train(string name, double mixup)
        {
            var dir = Path.Combine(TestData.TempDir(), name);
            using var encoder = new HashTextEncoder();
            new TinaTrainer(GenerationFixture.Options(1) with { TaskMixup = mixup }, encoder).Train(ResNet18GenerationFixture.ZooDir, dir);
            return dir;
        }
        float[] Weights(string dir)
        {
            var state = TinaCheckpoint.Load(dir);
            var (tensors, _) = SafeTensors.Load(Path.Combine(dir, state.WeightsFile));
            return tensors.OrderBy(t => t.Key, StringComparer.Ordinal).SelectMany(t => t.Value.Data).ToArray();
        }
        string a = Train("tina-mixup-a", 0.5), b = Train("tina-mixup-b", 0.5), none = Train("tina-mixup-none", 0);
        Assert.Equal(0.5, TinaCheckpoint.Load(a).Options.TaskMixup);
        Assert.Equal(Weights(a), Weights(b));
        Assert.NotEqual(Weights(a), Weights(none));
    }
}
