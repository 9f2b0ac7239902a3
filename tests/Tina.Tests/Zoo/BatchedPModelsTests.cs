using Tina.PModels;
using Tina.Zoo;
using static TorchSharp.torch;

namespace Tina.Tests.Zoo;

public class BatchedPModelsTests
{
    private static List<float[]> RandomVectors(int m, int classes, int seed)
    {
        var rng = new Random(seed);
        int n = ParameterLayout.For(PModelArch.Cnn5k, classes).Count;
        return Enumerable.Range(0, m).Select(_ => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToList();
    }

    [Fact]
    public void StackedCnn5kEqualsEachNetworkAloneAndSkipsInactiveModels()
    {
        const int m = 3, b = 5, c = 4;
        var vectors = RandomVectors(m, c, seed: 1);
        using var models = new BatchedCnn5k(vectors, c);
        using var gen = new Generator(7UL, CPU);
        using var x = randn([m, b, 3, 32, 32], generator: gen);
        using var all = models.Forward(x);
        using var some = models.Forward(x, active: new[] { true, false, true });
        for (int k = 0; k < m; k++)
        {
            using var net = new PModel(PModelArch.Cnn5k, ["a", "b", "c", "d"], vectors[k]).ToNetwork();
            using var alone = net.forward(x[k]);
            Assert.True(alone.allclose(all[k], rtol: 1e-4, atol: 1e-5), $"model {k} differs from its network alone");
        }
        Assert.True(some[0].allclose(all[0]) && some[2].allclose(all[2]));
        // The skipped model's logits are its bias for every image, and its convolutions get no gradient.
        var bias = vectors[1].AsSpan(ParameterLayout.For(PModelArch.Cnn5k, c)["fc.bias"].Offset, c).ToArray();
        using var expected = tensor(bias).expand(b, c);
        Assert.True(some[1].allclose(expected));
        using var loss = some[1].sum();
        loss.backward();
        using var conv1Grad = models.Parameters[0].grad![1];
        Assert.Equal(0f, conv1Grad.abs().sum().item<float>());
    }

    [Fact]
    public void ComputeFloorCountsCnn5kAsThePaperSizedNetwork()
    {
        // conv1 16×16×16×27 + conv2 16×16×32×144 + fc 32×10 multiply-adds.
        Assert.Equal(2.0 * 1_290_560, ComputeFloor.ForwardFlops(PModelArch.Cnn5k, 10));
        Assert.Equal(7.74e6, ComputeFloor.TrainingFlopsPerImage(PModelArch.Cnn5k, 10), 0.01e6);
        // One p-Model of 50,000 image passes per minute needs exactly its FLOPs per minute.
        double perSecond = 50_000 * ComputeFloor.TrainingFlopsPerImage(PModelArch.Cnn5k, 10) / 60;
        Assert.Equal(1.0, ComputeFloor.PModelsPerMinute(perSecond, PModelArch.Cnn5k, [(10, 50_000)]), 9);
        Assert.Equal(2.0, ComputeFloor.PModelsPerMinute(perSecond, PModelArch.Cnn5k, [(10, 25_000), (10, 25_000)]), 9);
        Assert.True(ComputeFloor.MeasureMatmulFlops(TimeSpan.FromMilliseconds(50)) > 1e8);
    }
}
