using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Tina.Data;
using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text.Descriptions;

/// <summary>
/// The WordNet class descriptions in data/descriptions (scripts/make-descriptions.py) and their reader: coverage of
/// the real class lists, the never-name-the-class rule, the chosen senses, lookups and errors.
/// </summary>
public sealed partial class ClassDescriptionsTests
{
    private static readonly Lazy<string[]> CifarNames = new(() =>
        ReadMember(Path.Combine(TestData.DataDir, Cifar100.ArchiveName), "cifar-100-binary/fine_label_names.txt")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.Replace('_', ' ')).ToArray());

    private static readonly Lazy<string[]> MiniImageNetNames = new(() =>
        MiniImageNet.ParseClassNames(ReadMember(Path.Combine(TestData.DataDir, MiniImageNet.ArchiveName),
            $"{MiniImageNet.RootFolder}/{MiniImageNet.ClassNamesFile}")).Values.ToArray());

    private static IReadOnlyDictionary<string, string> Cifar => ClassDescriptions.Load(ClassDescriptions.DefaultPath(TestData.RepoRoot, "cifar100"));

    private static IReadOnlyDictionary<string, string> Mini => ClassDescriptions.Load(ClassDescriptions.DefaultPath(TestData.RepoRoot, "miniimagenet"));

    [Fact]
    public void Cifar100_EveryClassHasANonEmptyDescription()
    {
        var names = CifarNames.Value;
        Assert.Equal(100, names.Length);
        var descriptions = Cifar;
        Assert.Equal(100, descriptions.Count);
        foreach (var name in names)
        {
            Assert.True(descriptions.TryGetValue(name, out var d), $"no description for '{name}'");
            Assert.False(string.IsNullOrWhiteSpace(d), name);
            Assert.Equal(d, d.Trim());
        }
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), descriptions.Keys.OrderBy(n => n, StringComparer.Ordinal));
    }

    [Fact]
    public void MiniImageNet_Has100EntriesKeyedByTheClassNamesOfClassNamesTsv()
    {
        var names = MiniImageNetNames.Value;
        Assert.Equal(100, names.Length);
        var descriptions = Mini;
        Assert.Equal(100, descriptions.Count);
        Assert.Equal(names.OrderBy(n => n, StringComparer.Ordinal), descriptions.Keys.OrderBy(n => n, StringComparer.Ordinal));
        Assert.All(descriptions.Values, d => Assert.False(string.IsNullOrWhiteSpace(d)));
        Assert.Contains("songbird", descriptions["house finch"]);
        Assert.Contains("armored military vehicle", descriptions["tank"]);
    }

    [Theory]
    [InlineData("cifar100")]
    [InlineData("miniimagenet")]
    public void NoDescriptionContainsAWordOfItsClassName(string dataset)
    {
        foreach (var (name, description) in ClassDescriptions.Load(ClassDescriptions.DefaultPath(TestData.RepoRoot, dataset)))
        {
            var tokens = Word().Matches(description).Select(m => m.Value.ToLowerInvariant()).ToHashSet();
            foreach (var word in Word().Matches(name).Select(m => m.Value.ToLowerInvariant()))
                foreach (var form in new[] { word, word + "s", word + "es" })
                    Assert.False(tokens.Contains(form), $"{dataset}: the description of '{name}' contains '{form}': {description}");
        }
    }

    [Fact]
    public void HandWrittenCifar100Descriptions_CoverEveryClassAndNeverNameIt()
    {
        // data/prompts/cifar100-descriptions-handwritten.tsv: the second description set, for a generator that trained on WordNet's.
        var texts = ClassTextsFile.Read(Path.Combine(TestData.RepoRoot, "data", "prompts", "cifar100-descriptions-handwritten.tsv"));
        Assert.Equal(CifarNames.Value.OrderBy(n => n, StringComparer.Ordinal), texts.Keys.OrderBy(n => n, StringComparer.Ordinal));
        foreach (var (name, description) in texts)
        {
            var tokens = Word().Matches(description).Select(m => m.Value.ToLowerInvariant()).ToHashSet();
            var words = Word().Matches(name).Select(m => m.Value.ToLowerInvariant()).ToList();
            if (name is "maple" or "oak" or "palm" or "pine" or "willow") words.Add("tree");   // CIFAR-100's maple_tree, …
            foreach (var word in words)
                foreach (var form in new[] { word, word + "s", word + "es" })
                    Assert.False(tokens.Contains(form), $"the hand-written description of '{name}' contains '{form}': {description}");
            Assert.NotEqual(Cifar[name], description);
        }
    }

    [Fact]
    public void Cifar100_TreeClassesAvoidTheWordTreeToo()
    {
        // The original CIFAR-100 names are maple_tree, oak_tree, palm_tree, pine_tree, willow_tree.
        var descriptions = Cifar;
        foreach (var name in new[] { "maple", "oak", "palm", "pine", "willow" })
        {
            var tokens = Word().Matches(descriptions[name]).Select(m => m.Value.ToLowerInvariant()).ToHashSet();
            Assert.DoesNotContain("tree", tokens);
            Assert.DoesNotContain("trees", tokens);
        }
        Assert.Equal("a coniferous woody plant", descriptions["pine"]);
    }

    [Theory]   // the WordNet glosses of the senses chosen by the override table (first senses are wrong for these)
    [InlineData("seal", "02076196", "marine mammals that come on shore to breed")]
    [InlineData("ray", "01495701", "cartilaginous fishes having horizontally flattened bodies")]
    [InlineData("palm", "12582231", "unbranched trunk crowned by large pinnate or palmate leaves")]
    [InlineData("castle", "02980441", "fortified against attack")]
    [InlineData("cloud", "09247410", "a visible mass of water or ice particles")]
    [InlineData("table", "04379243", "a piece of furniture having a smooth flat top")]
    [InlineData("lamp", "03636649", "a piece of furniture holding one or more electric light bulbs")]
    [InlineData("turtle", "01662784", "reptiles having a bony shell")]
    [InlineData("whale", "02062744", "cetacean mammals")]
    [InlineData("beaver", "02363005", "semiaquatic rodent")]
    [InlineData("dolphin", "02068974", "small toothed whales")]
    [InlineData("trout", "02537085", "game and food fishes of cool fresh waters")]
    [InlineData("television", "04405907", "an electronic device that receives broadcast signals")]
    [InlineData("shrew", "01891633", "small mouselike mammal")]
    [InlineData("girl", "10084295", "a youthful female person")]
    [InlineData("aquarium fish", "01443537", "small golden or orange-red freshwater aquatic animals")]
    // first senses that were checked and kept
    [InlineData("mouse", "02330245", "small rodents")]
    [InlineData("tank", "04389033", "an enclosed armored military vehicle; has a cannon and moves on caterpillar treads")]
    [InlineData("plain", "09393605", "extensive tract of level open land")]
    [InlineData("crab", "01976957", "decapod having eyes on short stalks")]
    [InlineData("bear", "02131653", "carnivorous or omnivorous mammals")]
    [InlineData("keyboard", "03614007", "a set of keys on a piano or organ or typewriter")]
    [InlineData("bridge", "02898711", "a structure that allows people or vehicles to cross an obstacle")]
    [InlineData("tractor", "04465501", "used in farming")]
    [InlineData("boy", "10285313", "a youthful male person")]
    public void Cifar100_UsesTheIntendedSense(string name, string offset, string expected)
    {
        Assert.Contains(expected, Cifar[name]);
        var line = File.ReadAllLines(ClassDescriptions.DefaultPath(TestData.RepoRoot, "cifar100")).Single(l => l.StartsWith(name + "\t", StringComparison.Ordinal));
        Assert.Equal(offset, line.Split('\t')[1]);
    }

    [Fact]
    public void Lookup_IgnoresCaseBlanksAndUnderscores()
    {
        var descriptions = Cifar;
        var expected = descriptions["aquarium fish"];
        Assert.Equal(expected, descriptions["aquarium_fish"]);
        Assert.Equal(expected, descriptions["Aquarium_Fish"]);
        Assert.Equal(expected, descriptions["  AQUARIUM   fish "]);
        Assert.True(descriptions.ContainsKey("pickup_truck"));
        Assert.False(descriptions.ContainsKey("aquariumfish"));
        Assert.Equal("house finch", ClassDescriptions.NormalizeName(" house_finch "));
        Assert.Contains("aquarium fish", descriptions.Keys);           // keys keep the file's spelling
    }

    [Fact]
    public void BuiltInCopies_MatchTheFiles_AndResolveAliases()
    {
        Assert.Equal(Cifar.OrderBy(p => p.Key), ClassDescriptions.LoadBuiltIn("CIFAR-100").OrderBy(p => p.Key));
        Assert.Equal(Mini.OrderBy(p => p.Key), ClassDescriptions.LoadBuiltIn("mini-imagenet").OrderBy(p => p.Key));
        Assert.Equal("a youthful male person", ClassDescriptions.LoadBuiltIn("cifar100")["Boy"]);
    }

    [Fact]
    public void DefaultPath_AcceptsTheRepoTheDataFolderOrTheDescriptionsFolder()
    {
        var expected = Path.Combine(TestData.RepoRoot, "data", "descriptions", "cifar100.tsv");
        Assert.Equal(expected, ClassDescriptions.DefaultPath(TestData.RepoRoot, "cifar100"));
        Assert.Equal(expected, ClassDescriptions.DefaultPath(Path.Combine(TestData.RepoRoot, "data"), "cifar_100"));
        Assert.Equal(expected, ClassDescriptions.DefaultPath(Path.Combine(TestData.RepoRoot, "data", "descriptions"), "CIFAR-100"));
    }

    [Fact]
    public void UnknownOrUndescribedDatasets_AndMissingFiles_AreClearErrors()
    {
        var unknown = Assert.Throws<TinaException>(() => ClassDescriptions.DefaultPath(TestData.RepoRoot, "imagenet-21k"));
        Assert.Contains("imagenet-21k", unknown.Message);
        Assert.Contains("cifar100", unknown.Message);
        var undescribed = Assert.Throws<TinaException>(() => ClassDescriptions.LoadBuiltIn("caltech101"));
        Assert.Contains("caltech101", undescribed.Message);
        Assert.Contains("miniimagenet", undescribed.Message);

        var empty = TestData.TempDir();
        var missing = Assert.Throws<TinaFileNotFoundException>(() => ClassDescriptions.DefaultPath(empty, "cifar100"));
        Assert.Contains(empty, missing.Message);
        Assert.Throws<TinaFileNotFoundException>(() => ClassDescriptions.Load(Path.Combine(empty, "nope.tsv")));
    }

    [Fact]
    public void MalformedFiles_AreRejected()
    {
        var dir = TestData.TempDir();
        var twoFields = Path.Combine(dir, "two.tsv");
        File.WriteAllText(twoFields, "class\tsynset_offset\tdescription\napple\t07739125\n");
        Assert.Contains("line 2", Assert.Throws<CorruptFileException>(() => ClassDescriptions.Load(twoFields)).Message);

        var duplicate = Path.Combine(dir, "dup.tsv");
        File.WriteAllText(duplicate, "aquarium_fish\t01443537\tone\nAquarium Fish\t01443537\ttwo\n");
        Assert.Contains("twice", Assert.Throws<CorruptFileException>(() => ClassDescriptions.Load(duplicate)).Message);

        var emptyDescription = Path.Combine(dir, "empty.tsv");
        File.WriteAllText(emptyDescription, "apple\t07739125\t  \n");
        Assert.Throws<CorruptFileException>(() => ClassDescriptions.Load(emptyDescription));

        var noHeader = Path.Combine(dir, "ok.tsv");
        File.WriteAllText(noHeader, "apple\t07739125\tfruit with red or yellow or green skin\r\n\r\n");
        Assert.Equal("fruit with red or yellow or green skin", ClassDescriptions.Load(noHeader)["APPLE"]);
    }

    [Fact]
    public async Task CommittedFiles_AreWhatTheScriptProduces()
    {
        // Needs python3 and WordNet 3.0 (Debian package wordnet-base, installed by scripts/setup.sh). Without them the
        // test fails rather than passing without having compared anything.
        Assert.True(File.Exists("/usr/bin/python3"), "/usr/bin/python3 is missing: install Debian's python3 (scripts/setup.sh)");
        Assert.True(File.Exists("/usr/share/wordnet/data.noun"),
            "WordNet 3.0 is missing (/usr/share/wordnet/data.noun): run scripts/setup.sh or apt-get install wordnet-base");
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { Path.Combine(TestData.RepoRoot, "scripts", "make-descriptions.py"), "--check" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["TINA_DATA"] = TestData.DataDir;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"make-descriptions.py --check failed ({p.ExitCode}): {stderr}{await stdout}");
    }

    private static string ReadMember(string archive, string member)
    {
        using var file = File.OpenRead(archive);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.Name != member || entry.DataStream is null) continue;
            using var reader = new StreamReader(entry.DataStream, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        throw new InvalidOperationException($"{member} not found in {archive}");
    }

    [GeneratedRegex("[A-Za-z0-9]+")]
    private static partial Regex Word();
}
