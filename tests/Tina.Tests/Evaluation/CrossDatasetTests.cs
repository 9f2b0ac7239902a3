using Tina.Data;
using Tina.Evaluation;
using Tina.MLNet.Errors;
using Tina.Tests.Data;

namespace Tina.Tests.Evaluation;

public class CrossDatasetTests
{
    [Fact]
    public void CifarAndCaltechShareFourteenClassesIncludingThePluralFolders()
    {
        var cifar = Fixtures.Cifar;
        var caltech = SharedDatasets.Get("caltech101");
        var shared = CrossDataset.SharedClasses(cifar, caltech);
        var names = shared.Select(p => cifar.ClassNames[p.Source]).ToList();
        Assert.Equal(14, shared.Count);
        Assert.Contains("motorcycle", names);
        Assert.Contains("leopard", names);
        Assert.Contains("chair", names);
        Assert.Equal("Motorbikes", caltech.ClassNames[shared.Single(p => cifar.ClassNames[p.Source] == "motorcycle").Target]);
        Assert.DoesNotContain("apple", names); // Caltech-101 has no apples
        // Windsor chairs are a Caltech-101 class of their own, not CIFAR-100's chairs.
        Assert.Equal("chair", caltech.ClassNames[shared.Single(p => cifar.ClassNames[p.Source] == "chair").Target]);
    }

    [Fact]
    public void ImagesAreTheOtherDatasetsPhotosOfTheSharedClassesUnderTheFirstDatasetsLabels()
    {
        var cifar = Fixtures.Cifar;
        var caltech = SharedDatasets.Get("caltech101");
        var shared = CrossDataset.SharedClasses(cifar, caltech);
        var images = CrossDataset.Images(cifar, caltech);
        int expected = shared.Sum(p => caltech.Train.Labels.Count(l => l == p.Target) + caltech.Test.Labels.Count(l => l == p.Target));
        Assert.Equal(expected, images.Count);
        Assert.All(images.Labels, l => Assert.Contains(l, shared.Select(p => p.Source)));
        // The first image of Caltech's chair class, in order, is the first image labelled CIFAR's chair.
        int chair = cifar.ClassIndex("chair"), calChair = caltech.ClassIndex("chair");
        int first = Array.IndexOf(caltech.Train.Labels, calChair);
        Assert.True(caltech.Train.Image(first).SequenceEqual(images.Image(Array.IndexOf(images.Labels, chair))));
    }

    [Fact]
    public void TasksAreDistinctListsOfTheSharedClassesWithEveryLengthInTheRange()
    {
        var cifar = Fixtures.Cifar;
        var shared = CrossDataset.SharedClasses(cifar, SharedDatasets.Get("caltech101"));
        var tasks = CrossDataset.Tasks(cifar, shared, 200, 2, 10, seed: 4);
        Assert.Equal(200, tasks.Count);
        Assert.Equal(200, tasks.Select(t => string.Join(",", t.Classes.Order())).Distinct().Count());
        Assert.Equal(Enumerable.Range(2, 9), tasks.Select(t => t.Count).Distinct().Order());
        Assert.All(tasks, t => Assert.All(t.Classes, c => Assert.Contains(c, shared.Select(p => p.Source))));
        Assert.Equal(tasks.Select(t => t.Prompt), CrossDataset.Tasks(cifar, shared, 200, 2, 10, seed: 4).Select(t => t.Prompt));
        Assert.Throws<TinaException>(() => CrossDataset.Tasks(cifar, shared, 5, 15, 20, seed: 0));
    }

    [Fact]
    public void DatasetsThatShareFewerThanTwoNamesAreRefused()
    {
        var a = new ImageDataset("a", ["cat", "dog"], new ImageSet(new byte[ImageSet.ImageBytes], [0]), new ImageSet(new byte[ImageSet.ImageBytes], [1]));
        var b = new ImageDataset("b", ["dog", "fish"], new ImageSet(new byte[ImageSet.ImageBytes], [0]), new ImageSet(new byte[ImageSet.ImageBytes], [1]));
        var e = Assert.Throws<TinaException>(() => CrossDataset.Images(a, b));
        Assert.Contains("share 1 class name", e.Message);
    }
}
