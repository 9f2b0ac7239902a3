using Tina.MLNet.IO;
using Tina.PModels;

namespace Tina.Tests.PModels;

public class PModelEnsembleTests
{
    private static PModel Cnn(params string[] labels) =>
        new(PModelArch.Cnn5k, labels, new float[ParameterLayout.For(PModelArch.Cnn5k, labels.Length).Count]);

    [Fact]
    public void MembersMustAgreeOnArchitectureAndLabels()
    {
        var a = Cnn("apple", "pear");
        var ensemble = new PModelEnsemble([a, Cnn("apple", "pear")], [3, 4]);
        Assert.Equal(2, ensemble.Count);
        Assert.Equal(PModelArch.Cnn5k, ensemble.Arch);
        Assert.Equal(["apple", "pear"], ensemble.Labels);
        Assert.Equal([3L, 4L], ensemble.Seeds!);
        Assert.Null(new PModelEnsemble([a]).Seeds);

        var order = Assert.Throws<ArgumentException>(() => new PModelEnsemble([a, Cnn("pear", "apple")]));
        Assert.Contains("member 1 has the labels [pear, apple]", order.Message);
        var count = Assert.Throws<ArgumentException>(() => new PModelEnsemble([a, a, Cnn("apple", "pear", "plum")]));
        Assert.Contains("member 2", count.Message);

        var frozen = new Dictionary<string, Tina.MLNet.IO.NamedTensor> { ["conv1.weight"] = new([1], [0f]) };
        var resnet = new PModel(PModelArch.ResNet20, ["apple", "pear"], new float[ParameterLayout.For(PModelArch.ResNet20, 2).Count], frozen);
        var arch = Assert.Throws<ArgumentException>(() => new PModelEnsemble([a, resnet]));
        Assert.Contains("resnet20", arch.Message);
        Assert.Contains("cnn5k", arch.Message);

        Assert.Contains("3 seeds", Assert.Throws<ArgumentException>(() => new PModelEnsemble([a, a], [1, 2, 3])).Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(17)]
    [InlineData(-2)]
    public void SizeOutsideOneToSixteenIsRefusedNamingIt(int size)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => PModelEnsemble.CheckSize(size, "size"));
        Assert.Contains($"got {size}", e.Message);
        Assert.Contains("1 to 16", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PModelEnsemble([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PModelEnsemble(Enumerable.Range(0, 17).Select(_ => Cnn("a")).ToArray()));
    }
}
