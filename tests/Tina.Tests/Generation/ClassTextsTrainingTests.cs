using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.Zoo;

namespace Tina.Tests.Generation;

/// <summary>Training with class texts (<see cref="TinaTrainingOptions.ClassTexts"/>): every line must name a class of the zoo.</summary>
public class ClassTextsTrainingTests
{
    [Fact]
    public void ALineForAClassTheZooLacksIsRefusedAndOtherCasingIsTheSameClass()
    {
        var first = ZooManifest.Load(GenerationFixture.ZooDir).Tasks[0].Names[0];
        using var encoder = new HashTextEncoder();
        var e = Assert.Throws<InvalidPromptException>(() => new TinaTrainer(GenerationFixture.Options(1) with
        {
            ClassTexts = new Dictionary<string, string> { [first] = "other words", ["trolleybus"] = "trolley" },
        }, encoder).Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "tina-texts-unknown")));
        Assert.Contains("'trolleybus'", e.Message);
        Assert.Contains("no task of the zoo", e.Message);

        // The same class under other casing is one class: given twice, it is refused too.
        var twice = Assert.Throws<InvalidPromptException>(() => new TinaTrainer(GenerationFixture.Options(1) with
        {
            ClassTexts = new Dictionary<string, string> { [first] = "other words", [first.ToUpperInvariant()] = "more words" },
        }, encoder).Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "tina-texts-twice")));
        Assert.Contains("twice", twice.Message);
    }
}
