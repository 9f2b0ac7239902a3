using Tina.Data;

namespace Tina.Tests.Data;

public class Cifar100StoreTests
{
    [Fact]
    public void HasOfficialSizesAndTwentySuperclassesOfFive()
    {
        var ds = SharedDatasets.Get("cifar100");
        Assert.Equal("cifar100", ds.Name);
        Assert.Equal(100, ds.NumClasses);
        Assert.Equal(50_000, ds.Train.Count);
        Assert.Equal(10_000, ds.Test.Count);
        Assert.Equal(20, ds.SuperclassNames!.Count);
        Assert.All(ds.ClassToSuperclass!.GroupBy(s => s), g => Assert.Equal(5, g.Count()));
        Assert.Equal(Enumerable.Range(0, 20), ds.ClassToSuperclass!.Distinct().Order());
        Assert.All(Enumerable.Range(0, 100), c => Assert.Equal(500, ds.Train.Labels.Count(l => l == c)));
    }

    [Fact]
    public void ClassNamesAreDisplayNames()
    {
        var ds = SharedDatasets.Get("CIFAR-100");
        Assert.Contains("aquarium fish", ds.ClassNames);
        Assert.Equal(ds.ClassIndex("aquarium fish"), ds.ClassIndex("aquarium_fish"));
        Assert.DoesNotContain(ds.ClassNames, n => n.Contains('_'));
        Assert.Contains("large man-made outdoor things", ds.SuperclassNames!);
        Assert.Equal("fish", ds.SuperclassNames![ds.ClassToSuperclass![ds.ClassIndex("aquarium fish")]]);
    }

    [Fact]
    public void CacheHoldsTheSameDataAsTheArchive()
    {
        var viaStore = SharedDatasets.Get("cifar100");
        var direct = Cifar100.Load(SharedDatasets.Archive(Cifar100.ArchiveName));
        Assert.Equal(direct.ClassNames, viaStore.ClassNames);
        Assert.Equal(direct.SuperclassNames, viaStore.SuperclassNames);
        Assert.Equal(direct.ClassToSuperclass, viaStore.ClassToSuperclass);
        Assert.Equal(direct.Train.Labels, viaStore.Train.Labels);
        Assert.True(direct.Train.Pixels.AsSpan().SequenceEqual(viaStore.Train.Pixels));
        Assert.True(direct.Test.Pixels.AsSpan().SequenceEqual(viaStore.Test.Pixels));
    }
}
