using Tina.PModels;
using TorchSharp;

namespace Tina.Tests.PModels;

public class ParameterLayoutTests
{
    [Fact]
    public void Cnn5kHas5370ParametersInPaperOrder()
    {
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 10);
        Assert.Equal(5370, layout.Count);
        Assert.Equal(["conv1.weight", "conv2.weight", "fc.weight", "fc.bias"], layout.Entries.Select(e => e.Name));
        Assert.Equal([432, 4608, 320, 10], layout.Entries.Select(e => e.Length));
        using var net = PModelNetwork.Create(PModelArch.Cnn5k, 10, seed: 1);
        Assert.Equal(5370, net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void ResNet20HeadHas650AndNetworkAbout272K()
    {
        Assert.Equal(650, ParameterLayout.For(PModelArch.ResNet20, 10).Count);
        using var net = PModelNetwork.Create(PModelArch.ResNet20, 10, seed: 1);
        long total = net.parameters().Sum(p => p.numel());
        Assert.InRange(total, 270_000, 276_000);
    }

    [Fact]
    public void SeededNetworksAreTheSameWhenCreatedOnManyThreadsAtOnce()
    {
        using var reference = PModelNetwork.Create(PModelArch.Cnn5k, 10, seed: 7);
        var expected = StateDict.Flatten(reference);
        var results = new float[16][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            // Odd iterations create other seeds in between, drawing from the same global generator.
            using var net = PModelNetwork.Create(PModelArch.Cnn5k, 10, seed: i % 2 == 0 ? 7 : 100 + i);
            results[i] = StateDict.Flatten(net);
        });
        for (int i = 0; i < results.Length; i += 2) Assert.Equal(expected, results[i]);
        Assert.NotEqual(expected, results[1]);
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k, 10)]
    [InlineData(PModelArch.ResNet20, 7)]
    public void FlattenUnflattenRoundTrips(PModelArch arch, int classes)
    {
        using var a = PModelNetwork.Create(arch, classes, seed: 1);
        using var b = PModelNetwork.Create(arch, classes, seed: 2);
        var v = StateDict.Flatten(a);
        Assert.NotEqual(v, StateDict.Flatten(b));
        StateDict.Unflatten(b, v);
        Assert.Equal(v, StateDict.Flatten(b));
        // The vector is the named tensors in layout order.
        var layout = ParameterLayout.For(arch, classes);
        var fcBias = a.state_dict()["fc.bias"].data<float>().ToArray();
        Assert.Equal(fcBias, layout.Slice(v, "fc.bias").ToArray());
    }

    [Fact]
    public void PModelStateDictRebuildsTheSameNetwork()
    {
        using var net = Tina.Runtime.Seeds.WithGlobalSeed(2, () => new ResNet20(5));
        net.eval();
        var frozen = StateDict.Export(net);
        var p = new PModel(PModelArch.ResNet20, ["a", "b", "c", "d", "e"], StateDict.Flatten(net), frozen);
        using var rebuilt = p.ToNetwork();
        using var g = new torch.Generator(4, torch.CPU);
        using var x = torch.randn([2, 3, 32, 32], generator: g);
        using var y1 = net.forward(x);
        using var y2 = rebuilt.forward(x);
        Assert.True(y1.allclose(y2, rtol: 0, atol: 0));
    }

    [Fact]
    public void WrongVectorLengthIsRejected()
    {
        Assert.Throws<ArgumentException>(() => new PModel(PModelArch.Cnn5k, ["a", "b"], new float[5370]));
    }
}
