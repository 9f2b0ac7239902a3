using Tina.MLNet.Errors;
using Tina.Tasks;

namespace Tina.Tests.Tasks;

public class PromptFileTests
{
    private static string Write(string text)
    {
        var path = Path.Combine(TestData.TempDir(), "prompts.txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void ReadsOneTaskPerLineInPromptOrder()
    {
        var tasks = PromptFile.Read(Write("# my lists\napple, pear, orange\n\n  tulip,rose ,sunflower, orchid, poppy\n"), Fixtures.Cifar, 10);
        Assert.Equal(2, tasks.Count);
        Assert.Equal(["apple", "pear", "orange"], tasks[0].Names);
        Assert.Equal(Fixtures.Cifar.ClassIndex("pear"), tasks[0].Classes[1]);
        Assert.Equal(5, tasks[1].Count);
    }

    [Fact]
    public void ABadLineIsNamedByItsNumber()
    {
        var e = Assert.Throws<InvalidPromptException>(() => PromptFile.Read(Write("apple, pear\n# ok\napple, spaceship\n"), Fixtures.Cifar, 10));
        Assert.Contains("line 3", e.Message);
        Assert.Contains("spaceship", e.Message);
        e = Assert.Throws<InvalidPromptException>(() => PromptFile.Read(Write("apple\n"), Fixtures.Cifar, 10));
        Assert.Contains("line 1", e.Message);
        e = Assert.Throws<InvalidPromptException>(() => PromptFile.Read(Write("apple, pear, apple\n"), Fixtures.Cifar, 10));
        Assert.Contains("line 1", e.Message);
        Assert.Throws<InvalidPromptException>(() => PromptFile.Read(Write("# nothing\n\n"), Fixtures.Cifar, 10));
        Assert.Throws<TinaFileNotFoundException>(() => PromptFile.Read(Path.Combine(TestData.TempDir(), "missing.txt"), Fixtures.Cifar, 10));
    }
}
