using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.Tasks;
using Tina.Text;

namespace Tina.Tests.Generation;

public class ClassPromptTests
{
    [Fact]
    public void PromptFilesTakeNamesDescriptionsAndLabelledDescriptions()
    {
        var classes = ClassPromptFile.Parse([
            "# fruit",
            "apple",
            "",
            "pear: a sweet, juicy fruit with a thin skin",
            "a round, juicy citrus fruit with a tough, bright orange rind",
        ]);
        Assert.Equal(["apple", "pear", "class3"], classes.Select(c => c.Label));
        Assert.Equal(["apple", "a sweet, juicy fruit with a thin skin", "a round, juicy citrus fruit with a tough, bright orange rind"], classes.Select(c => c.Text));
    }

    [Theory]
    [InlineData("apple\n: a fruit", "Line 2", "nothing before ':'")]
    [InlineData("apple\npear:", "Line 2", "nothing after 'pear:'")]
    [InlineData("apple\napple", "", "Duplicate class")]
    [InlineData("apple\nbad\u0001name", "Line 2", "control character")]
    [InlineData("# only a comment", "", "no class")]
    public void BadPromptFilesNameTheLine(string text, string where, string what)
    {
        var e = Assert.Throws<InvalidPromptException>(() => ClassPromptFile.Parse(text.Split('\n'), source: "f.txt"));
        Assert.Contains(where, e.Message);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void TooManyClassesAndMissingFilesAreClearErrors()
    {
        Assert.Throws<InvalidPromptException>(() => ClassPromptFile.Parse(["a", "b", "c"], maxClasses: 2));
        Assert.Throws<TinaFileNotFoundException>(() => ClassPromptFile.Read(Path.Combine(TestData.TempDir(), "none.txt")));
        Assert.Throws<InvalidPromptException>(() => ClassPrompt.Check([new ClassPrompt("apple", new string('x', ClassPrompt.MaxTextLength + 1))], 10));
        Assert.Throws<InvalidPromptException>(() => ClassPrompt.Check([new ClassPrompt("apple, pear", "fruit")], 10));
    }

    [Fact]
    public void NamePromptsAreTheNameApiAndDescriptionsKeepTheLabels()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir, new HashTextEncoder());
        var names = gen.StoredClassNames.Take(3).ToList();
        var byName = gen.Generate(names, new GenerateOptions { Steps = 5, Seed = 3 });
        var byPrompt = gen.Generate(ClassPrompt.OfNames(names), new GenerateOptions { Steps = 5, Seed = 3 });
        Assert.Equal(byName.Parameters, byPrompt.Parameters);
        var described = gen.Generate(names.Select(n => new ClassPrompt(n, $"a thing unlike any {n} at all")).ToList(), new GenerateOptions { Steps = 5, Seed = 3 });
        Assert.Equal(names, described.Labels);
        Assert.NotEqual(byName.Parameters, described.Parameters);
    }

    [Fact]
    public void TrainingOnDescriptionsStoresTheDescriptionsAsTheTextsTrainedOn()
    {
        var manifest = Tina.Zoo.ZooManifest.Load(GenerationFixture.ZooDir);
        var names = manifest.Tasks.Where(t => t.Split == "train").SelectMany(t => t.Names).Distinct().ToList();
        var descriptions = names.ToDictionary(n => n, n => $"the description of {n}");
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(TestData.TempDir(), "described");
        new TinaTrainer(GenerationFixture.Options(1) with { Prompts = PromptKind.Descriptions, Descriptions = descriptions }, encoder).Train(GenerationFixture.ZooDir, dir);
        using var gen = TinaGenerator.Load(dir, new HashTextEncoder());
        Assert.Equal(descriptions.Values.Order(StringComparer.Ordinal), gen.StoredClassNames.Order(StringComparer.Ordinal));

        var mixedDir = Path.Combine(TestData.TempDir(), "mixed");
        new TinaTrainer(GenerationFixture.Options(1) with { Prompts = PromptKind.Mixed, Descriptions = descriptions }, encoder).Train(GenerationFixture.ZooDir, mixedDir);
        using var mixed = TinaGenerator.Load(mixedDir, new HashTextEncoder());
        Assert.Equal(names.Concat(descriptions.Values).Order(StringComparer.Ordinal), mixed.StoredClassNames.Order(StringComparer.Ordinal));

        // A class without a description is refused with its name.
        var e = Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(1) with { Prompts = PromptKind.Descriptions, Descriptions = new Dictionary<string, string>() }, encoder)
            .Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "none")));
        Assert.Contains(names.Order(StringComparer.Ordinal).First(), e.Message);
        // Names encoded through other words keep the names as the stored keys; the other words are what is encoded.
        var aliasDir = Path.Combine(TestData.TempDir(), "aliased");
        var first = names.Order(StringComparer.Ordinal).First();
        new TinaTrainer(GenerationFixture.Options(1) with { ClassTexts = new Dictionary<string, string> { [first] = "another word" } }, encoder).Train(GenerationFixture.ZooDir, aliasDir);
        using (var aliased = TinaGenerator.Load(aliasDir, new HashTextEncoder()))
            Assert.Equal(names.Order(StringComparer.Ordinal), aliased.StoredClassNames.Order(StringComparer.Ordinal));
        var bad = Assert.Throws<InvalidPromptException>(() => new TinaTrainer(GenerationFixture.Options(1) with { ClassTexts = new Dictionary<string, string> { [first] = "zzz" } }, encoder)
            .Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "bad-alias")));
        Assert.Contains("zzz", bad.Message);
        // The built-in CIFAR-100 descriptions cover every class.
        var builtIn = ClassDescriptions.LoadBuiltIn("cifar100");
        Assert.All(Fixtures.Cifar.ClassNames, n => Assert.True(builtIn.ContainsKey(n), n));
    }
}
