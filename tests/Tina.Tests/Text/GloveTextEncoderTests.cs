using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>SIF encoding, tokenisation and unknown-word handling on the tiny generated vocabulary.</summary>
public sealed class GloveTextEncoderTests
{
    private static GloveTextEncoder Open() => new(GloveFixture.Cache(), GloveFixture.ReferenceTexts);

    [Fact]
    public void Tokenizer_SplitsOnNonLettersAndLowerCases()
    {
        Assert.Equal(["aquarium", "fish"], WordTokenizer.Split("aquarium fish"));
        Assert.Equal(["maple", "tree"], WordTokenizer.Split("maple_tree"));
        Assert.Equal(["pickup", "truck", "2"], WordTokenizer.Split("  Pickup-Truck (2)!"));
        Assert.Equal(["café"], WordTokenizer.Split("CAFÉ"));
        Assert.Empty(WordTokenizer.Split(" _-. "));
    }

    [Fact]
    public void Encoding_IsUnitLengthAndDeterministic()
    {
        using var encoder = Open();
        Assert.StartsWith("fixture@0+sif:", encoder.Id);
        Assert.Equal(4, encoder.Dimension);
        var a = encoder.Encode(["apple", "aquarium fish"]);
        Assert.All(a, v => Assert.Equal(1.0, Math.Sqrt(v.Sum(x => (double)x * x)), 5));
        using var again = Open();
        Assert.Equal(a, again.Encode(["apple", "aquarium fish"]));
        Assert.Equal(encoder.Id, again.Id);
    }

    [Fact]
    public void Encoding_FollowsSifFormula()
    {
        using var encoder = Open();
        var u = encoder.CommonComponent.ToArray();
        Assert.Equal(1.0, Math.Sqrt(u.Sum(x => x * x)), 9);
        // "aquarium fish": weighted mean of the two vectors, Zipf weights from ranks 9 and 3, minus the component.
        double h = SifWeighting.HarmonicNumber(GloveFixture.Words.Length);
        double wAquarium = SifWeighting.Weight(SifWeighting.ZipfProbability(9, h));
        double wFish = SifWeighting.Weight(SifWeighting.ZipfProbability(3, h));
        var expected = new float[4];
        for (int k = 0; k < 4; k++) expected[k] = (float)((wAquarium * GloveFixture.Words[8].Vector[k] + wFish * GloveFixture.Words[2].Vector[k]) / 2);
        SifWeighting.RemoveComponent(expected, u);
        TextVectors.Normalize(expected);
        var actual = encoder.EncodeText("Aquarium  Fish").Vector;
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], actual[k], 5);
        Assert.Equal(0.0, actual.Select((x, k) => x * u[k]).Sum(), 5); // orthogonal to the common component
    }

    [Fact]
    public void SimilarWords_AreCloser()
    {
        using var encoder = Open();
        var v = encoder.Encode(["apple", "pear", "tank", "truck"]);
        Assert.True(TextVectors.Cosine(v[0], v[1]) > TextVectors.Cosine(v[0], v[2]));
        Assert.True(TextVectors.Cosine(v[2], v[3]) > TextVectors.Cosine(v[2], v[1]));
    }

    [Fact]
    public void UnknownWords_AreSkippedAndReported()
    {
        using var encoder = Open();
        var e = encoder.EncodeText("maple_tree zorblax");
        Assert.Equal(["maple", "tree"], e.Words);
        Assert.Equal(["zorblax"], e.UnknownWords);
        Assert.Equal(encoder.EncodeText("maple tree").Vector, e.Vector);
        Assert.Empty(encoder.EncodeText("apple").UnknownWords);
    }

    [Fact]
    public void AllUnknown_ThrowsNamingTheWords()
    {
        using var encoder = Open();
        var e = Assert.Throws<InvalidPromptException>(() => encoder.Encode(["apple", "zorblax quuxly", "  --  "]));
        Assert.Contains("zorblax", e.Message);
        Assert.Contains("quuxly", e.Message);
        Assert.Contains("no words", e.Message);
        Assert.DoesNotContain("\"apple\"", e.Message);
    }

    [Fact]
    public void TooFewKnownReferenceTexts_IsTypedError()
    {
        Assert.Throws<TinaException>(() => new GloveTextEncoder(GloveFixture.Cache(), ["apple", "nothing-known-here"]));
    }
}
