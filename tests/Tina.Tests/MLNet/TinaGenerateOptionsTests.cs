using Microsoft.ML;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;

namespace Tina.Tests.MLNet;

/// <summary>The prompt of <c>TinaGenerate</c>: Prompt or Classes, parsed like every other prompt (no generator needed).</summary>
public class TinaGenerateOptionsTests
{
    [Fact]
    public void PromptAndClassesParseAlike()
    {
        Assert.Equal(["apple", "pear", "orange"], new TinaGenerateOptions { Prompt = "apple, pear;\norange" }.ParseClasses());
        Assert.Equal(["apple", "pear", "orange"], new TinaGenerateOptions { Classes = ["apple", "pear", "orange"] }.ParseClasses());
        // The README's first try: one item holding the whole prompt is split, not one unknown class.
        Assert.Equal(["apple", "pear", "orange"], new TinaGenerateOptions { Classes = ["apple, pear, orange"] }.ParseClasses());
        Assert.Equal(["sweet pepper"], new TinaGenerateOptions { Prompt = "  sweet   pepper " }.ParseClasses());
    }

    [Fact]
    public void ExactlyOneOfPromptAndClasses()
    {
        var neither = Assert.Throws<ArgumentException>(() => new TinaGenerateOptions().ParseClasses()).Message;
        Assert.Contains("Set TinaGenerateOptions.Prompt", neither);
        Assert.Contains("neither is set", neither);
        var both = Assert.Throws<ArgumentException>(() => new TinaGenerateOptions { Prompt = "apple", Classes = ["pear"] }.ParseClasses()).Message;
        Assert.Contains("Set only one of TinaGenerateOptions.Prompt and TinaGenerateOptions.Classes", both);
        // The estimator checks the prompt when it is created, before any generator is loaded.
        var ml = new MLContext(seed: 0);
        Assert.Throws<ArgumentException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "/nonexistent" }));
        Assert.Throws<ArgumentException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "/nonexistent", Prompt = "a", Classes = ["b"] }));
    }

    [Theory]
    [InlineData("apple, Apple", "Duplicate class")]
    [InlineData("apple; maple_tree; Maple Tree", "Duplicate class")]
    [InlineData("apple\u0007", "control character")]
    [InlineData(" ;, ", "The class list is empty")]
    [InlineData("apple, xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "65 characters long")]
    public void BadPromptsFailWhenTheEstimatorIsCreated(string prompt, string expected)
    {
        var ml = new MLContext(seed: 0);
        Assert.Contains(expected, Assert.Throws<InvalidPromptException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "/nonexistent", Prompt = prompt })).Message);
        Assert.Contains(expected, Assert.Throws<InvalidPromptException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "/nonexistent", Classes = [prompt] })).Message);
    }

    [Fact]
    public void TooManyClassesAreRejectedWithTheLimit()
    {
        var many = string.Join(", ", Enumerable.Range(0, 11).Select(i => $"class{(char)('a' + i)}"));
        Assert.Contains("at most 10", Assert.Throws<InvalidPromptException>(() => new TinaGenerateOptions { Prompt = many }.ParseClasses(maxClasses: 10)).Message);
    }
}
