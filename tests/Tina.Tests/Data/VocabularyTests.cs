using Tina.Data;

namespace Tina.Tests.Data;

public class VocabularyTests
{
    [Fact]
    public void EqualNamesAreOneClassWithTheImagesOfEveryDatasetThatHasIt()
    {
        var cifar = Fixtures.Cifar;
        var caltech = SharedDatasets.Get("caltech101");
        var merged = Vocabulary.Merge([cifar, caltech]);
        Assert.Equal(100 + 97 - 14, merged.NumClasses);                 // the 14 names both have (Motorbikes = motorcycle)
        Assert.Equal(cifar.ClassNames, merged.ClassNames.Take(100));     // the first dataset's names, in order
        Assert.Equal(cifar.Train.Count + caltech.Train.Count, merged.Train.Count);
        Assert.Equal(cifar.Test.Count + caltech.Test.Count, merged.Test.Count);
        int motorcycle = merged.ClassIndex("motorcycle");
        Assert.Equal(["cifar100", "caltech101"], merged.ClassSources![motorcycle]);
        Assert.Equal(motorcycle, merged.ClassIndex("Motorbikes"));       // either dataset's spelling resolves
        Assert.Equal(merged.ClassIndex("maple"), merged.ClassIndex("maple tree"));
        Assert.Equal(["caltech101"], merged.ClassSources[merged.ClassIndex("pizza")]);
        Assert.Equal(cifar.Train.Labels.Count(l => l == cifar.ClassIndex("motorcycle")) + caltech.Train.Labels.Count(l => l == caltech.ClassIndex("Motorbikes")),
            merged.Train.Labels.Count(l => l == motorcycle));
        // Caltech's first training image sits right after CIFAR-100's, under the merged label of its class.
        Assert.True(caltech.Train.Image(0).SequenceEqual(merged.Train.Image(cifar.Train.Count)));
        Assert.Equal(merged.ClassIndex(caltech.ClassNames[caltech.Train.Labels[0]]), merged.Train.Labels[cifar.Train.Count]);
        Assert.Equal([cifar.Train, caltech.Train], merged.Train.Parts!);
        // The merged dataset resolves through the catalog, and its subsets keep the sources.
        Assert.True(DatasetCatalog.TryResolve("merged", out var d) && d == DatasetCatalog.Merged);
        Assert.NotNull(merged.PerClassSubset(2).ClassSources);
    }
}
