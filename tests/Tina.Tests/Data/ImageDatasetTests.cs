using Tina.Data;
using Tina.MLNet.Errors;
using Tina.Tasks;

namespace Tina.Tests.Data;

/// <summary>How class names given by users resolve to a dataset's classes.</summary>
public class ImageDatasetTests
{
    private static ImageDataset Named(string name, params string[] classes)
    {
        var labels = Enumerable.Range(0, classes.Length).ToArray();
        var set = new ImageSet(new byte[labels.Length * ImageSet.ImageBytes], labels);
        return new ImageDataset(name, classes, set, set);
    }

    [Theory]
    [InlineData("maple tree")]
    [InlineData("Maple Tree")]
    [InlineData("maple_tree")]
    [InlineData("MAPLE_TREE")]
    [InlineData("  maple   tree ")]
    public void SpellingsOfOneClassResolveToIt(string name)
    {
        var d = Named("tiny", "apple", "maple tree", "pear");
        Assert.Equal(1, d.ClassIndex(name));
        // The task's labels are the words as typed (whitespace collapsed), its classes the dataset's.
        var task = PersonalizationTask.FromPrompt(d, $"{name}; pear");
        Assert.Equal([string.Join(' ', name.Split(' ', StringSplitOptions.RemoveEmptyEntries)), "pear"], task.Names);
        Assert.Equal([1, 2], task.Classes);
    }

    [Theory]
    [InlineData("maple tree")]
    [InlineData("Maple Tree")]
    [InlineData("maple_tree")]
    [InlineData("maple")]
    public void Cifar100TreesResolveByTheirOfficialAndShortNames(string name)
    {
        // Copies of CIFAR-100 name the class "maple" (ours) or, as the official release, "maple_tree".
        Assert.Equal(1, Named("cifar100", "apple", "maple", "pear").ClassIndex(name));
        Assert.Equal(1, Named("cifar100", "apple", "maple tree", "pear").ClassIndex(name));
        // Other datasets have no such synonyms.
        Assert.Throws<InvalidPromptException>(() => Named("tiny", "apple", "maple", "pear").ClassIndex("maple tree"));
    }

    [Fact]
    public void TheRealCifar100KnowsMapleTree()
    {
        var cifar = Fixtures.Cifar;
        var task = PersonalizationTask.FromPrompt(cifar, "apple;Maple Tree\npear, oak_tree");
        Assert.Equal(["apple", "Maple Tree", "pear", "oak_tree"], task.Names); // what was typed, though the archive says "maple" and "oak"
        Assert.Equal([cifar.ClassIndex("apple"), cifar.ClassIndex("maple"), cifar.ClassIndex("pear"), cifar.ClassIndex("oak")], task.Classes);
        var dup = Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromPrompt(cifar, "maple, pear, maple tree")).Message;
        Assert.StartsWith("Duplicate class: class 3, 'maple tree', is the same class of cifar100 as class 1, 'maple'", dup);
    }

    [Fact]
    public void UnknownNamesGetAHint()
    {
        var d = Named("tiny", "apple", "maple tree", "pear", "aquarium fish");
        var close = Assert.Throws<InvalidPromptException>(() => d.ClassIndex("maple")).Message;
        Assert.Equal("Unknown class 'maple' for dataset tiny. Did you mean: maple tree?", close);
        var fish = Assert.Throws<InvalidPromptException>(() => d.ClassIndex("Aquarium_Fishes")).Message;
        Assert.Contains("Did you mean: aquarium fish?", fish);
        var none = Assert.Throws<InvalidPromptException>(() => d.ClassIndex("zebra")).Message;
        Assert.Equal("Unknown class 'zebra' for dataset tiny. Run 'tina data list --classes tiny' to see them.", none);
        // A missing comma: every word is a class.
        var comma = Assert.Throws<InvalidPromptException>(() => d.ClassIndex("apple pear")).Message;
        Assert.Contains("separate classes with commas, e.g. \"apple, pear\"", comma);
    }

    [Fact]
    public void FromNamesParsesItsItems()
    {
        var d = Named("tiny", "apple", "maple tree", "pear", "orange");
        Assert.Equal([2, 0, 3], PersonalizationTask.FromNames(d, ["pear; apple", "orange"]).Classes);
        Assert.Equal([0, 2, 3], PersonalizationTask.FromNames(d, ["apple, pear, orange"]).Classes);
        Assert.Contains("at most 2", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromNames(d, ["apple, pear, orange"], maxClasses: 2)).Message);
        Assert.Contains("control character", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromPrompt(d, "apple\u0001")).Message);
    }

    [Fact]
    public void PerClassSubsetsKeepTheFirstImagesOfEveryClassAndNameThemselves()
    {
        var full = Fixtures.Cifar;
        var sub = full.PerClassSubset(3, 2);
        Assert.Equal("cifar100@3+2", sub.Name);
        Assert.Equal(300, sub.Train.Count);
        Assert.Equal(200, sub.Test.Count);
        Assert.All(Enumerable.Range(0, 100), c => Assert.Equal(3, sub.Train.Labels.Count(l => l == c)));
        int firstApple = Array.IndexOf(full.Train.Labels, full.ClassIndex("apple"));
        Assert.True(full.Train.Image(firstApple).SequenceEqual(sub.Train.Image(Array.IndexOf(sub.Train.Labels, full.ClassIndex("apple")))));
        Assert.Equal(full.Train, sub.Train.Parent!.Value.Set);
        Assert.Equal(full.Test, full.PerClassSubset(3).Test);
        // The name reads back, and CIFAR-100's synonyms still apply to it.
        Assert.Equal(("cifar100", 3, 2), ImageDataset.ParseSubset(sub.Name));
        Assert.Equal(("cifar100", 7, (int?)null), ImageDataset.ParseSubset("cifar100@7"));
        Assert.Equal(("cifar100", (int?)null, (int?)null), ImageDataset.ParseSubset("cifar100"));
        Assert.Equal(sub.ClassIndex("maple"), sub.ClassIndex("maple tree"));
        Assert.Throws<TinaException>(() => ImageDataset.ParseSubset("cifar100@0"));
        Assert.Throws<TinaException>(() => ImageDataset.ParseSubset("cifar100@3+x"));
        Assert.Throws<TinaException>(() => ImageDataset.ParseSubset("cifar100@1+2+3"));
    }
}
