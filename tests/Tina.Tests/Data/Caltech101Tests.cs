using Tina.Data;

namespace Tina.Tests.Data;

public class Caltech101Tests
{
    [Fact]
    public void Has97ClassesAnd7738Images()
    {
        var ds = SharedDatasets.Get("caltech101");
        Assert.Equal("caltech101", ds.Name);
        Assert.Equal(97, ds.NumClasses);
        Assert.Equal(7_738, ds.Train.Count + ds.Test.Count);
        Assert.Null(ds.SuperclassNames);
    }

    [Fact]
    public void ClassNamesAreSortedFolderNamesWithSpaces()
    {
        var ds = SharedDatasets.Get("caltech-101");
        Assert.Equal("Faces", ds.ClassNames[0]);
        Assert.Equal("Faces easy", ds.ClassNames[1]);
        Assert.Contains("sea horse", ds.ClassNames);
        Assert.Contains("yin yang", ds.ClassNames);
        Assert.DoesNotContain(ds.ClassNames, n => n.Contains('_') || n.StartsWith("BACKGROUND", StringComparison.Ordinal));
        Assert.Equal(ds.ClassIndex("Faces_easy"), ds.ClassIndex("faces easy"));
    }

    [Fact]
    public void EachClassIsSplitEightToTwo()
    {
        var ds = SharedDatasets.Get("caltech101");
        for (int c = 0; c < ds.NumClasses; c++)
        {
            int train = ds.Train.Labels.Count(l => l == c), test = ds.Test.Labels.Count(l => l == c);
            Assert.Equal(Caltech101.TestCount(train + test), test);
            Assert.InRange(test / (double)(train + test), 0.18, 0.22); // every class here has ≥ 31 images
        }
        Assert.InRange(ds.Test.Count / 7738.0, 0.195, 0.205);
    }

    [Fact]
    public void TestCountRoundsTwentyPercent()
    {
        Assert.Equal(0, Caltech101.TestCount(1));
        Assert.Equal(1, Caltech101.TestCount(2));
        Assert.Equal(6, Caltech101.TestCount(31));
        Assert.Equal(7, Caltech101.TestCount(33)); // 6.6
        Assert.Equal(87, Caltech101.TestCount(435));
        Assert.Equal(160, Caltech101.TestCount(798)); // 159.6
    }

    [Fact]
    public void SplitIsDeterministicAndTheCacheIsFaithful()
    {
        // The store's copy usually comes from the cache written by an earlier run; a fresh decode must match it bit for bit.
        var cached = SharedDatasets.Get("caltech101");
        var fresh = Caltech101.Load(SharedDatasets.Archive(Caltech101.ArchiveName));
        Assert.Equal(cached.ClassNames, fresh.ClassNames);
        Assert.Equal(cached.Train.Labels, fresh.Train.Labels);
        Assert.Equal(cached.Test.Labels, fresh.Test.Labels);
        Assert.True(cached.Train.Pixels.AsSpan().SequenceEqual(fresh.Train.Pixels));
        Assert.True(cached.Test.Pixels.AsSpan().SequenceEqual(fresh.Test.Pixels));
    }

    [Fact]
    public void ScanCountsWithoutDecodingMatchTheLoadedDataset()
    {
        var counts = Caltech101.Scan(SharedDatasets.Archive(Caltech101.ArchiveName));
        Assert.Equal(DatasetCounts.Of(SharedDatasets.Get("caltech101")), counts);
    }
}
