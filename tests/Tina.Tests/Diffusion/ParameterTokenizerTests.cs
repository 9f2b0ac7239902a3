using Tina.Diffusion;
using Tina.PModels;
using static Tina.Tests.Diffusion.DiffusionTestUtil;

namespace Tina.Tests.Diffusion;

public class ParameterTokenizerTests
{
    [Fact]
    public void Cnn5kGivesElevenTokensChunkedWithinLayers()
    {
        var tok = ParameterTokenizer.For(PModelArch.Cnn5k);
        Assert.Equal(11, tok.Count);
        Assert.Equal(5370, tok.ParameterCount);
        Assert.Equal([432, 576, 576, 576, 576, 576, 576, 576, 576, 320, 10], tok.Tokens.Select(t => t.Length));
        Assert.Equal(["conv1.weight", .. Enumerable.Repeat("conv2.weight", 8), "fc.weight", "fc.bias"], tok.Tokens.Select(t => t.TensorName));
        // Tokens tile the vector in order, each inside one tensor.
        int next = 0;
        foreach (var t in tok.Tokens)
        {
            Assert.Equal(next, t.Offset);
            var e = tok.Layout[t.TensorName];
            Assert.InRange(t.Offset, e.Offset, e.Offset + e.Length - t.Length);
            next += t.Length;
        }
        Assert.Equal(5370, next);
    }

    [Fact]
    public void ResNetHeadGivesThreeTokens()
    {
        var tok = ParameterTokenizer.For(PModelArch.ResNet20);
        Assert.Equal([576, 64, 10], tok.Tokens.Select(t => t.Length));
        Assert.Equal(650, tok.ParameterCount);
    }

    [Fact]
    public void ShortLastChunkAndSmallChunks()
    {
        var tok = new ParameterTokenizer(ParameterLayout.For(PModelArch.Cnn5k, 10), chunkSize: 1000);
        Assert.Equal([432, 1000, 1000, 1000, 1000, 608, 320, 10], tok.Tokens.Select(t => t.Length));
    }

    [Fact]
    public void ClassifierRowTokensCutFcWeightOneRowPerToken()
    {
        var tok = ParameterTokenizer.For(PModelArch.Cnn5k, classifierRowTokens: true);
        Assert.Equal([432, .. Enumerable.Repeat(576, 8), .. Enumerable.Repeat(32, 10), 10], tok.Tokens.Select(t => t.Length));
        var fc = tok.Layout["fc.weight"];
        var rows = tok.Tokens.Where(t => t.TensorName == "fc.weight").ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(r => fc.Offset + r * 32), rows.Select(t => t.Offset));
        // The chunk size still applies to the other tensors, and row tokens follow the chunk-size-independent rows.
        var small = ParameterTokenizer.For(PModelArch.ResNet20, chunkSize: 16, maxClasses: 3, classifierRowTokens: true);
        Assert.Equal([64, 64, 64, 3], small.Tokens.Select(t => t.Length));
    }

    [Fact]
    public void ConfigNamesItsTokenizer()
    {
        var config = TinaConfig.Tiny with { ChunkSize = 100, Tokens = TokenLayout.ClassifierRows };
        var tok = ParameterTokenizer.For(PModelArch.Cnn5k, config);
        Assert.True(tok.ClassifierRowTokens);
        Assert.Equal(100, tok.ChunkSize);
        Assert.Throws<ArgumentException>(() => new TinaTransformer(config, ParameterTokenizer.For(PModelArch.Cnn5k, 100)));
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k, false)]
    [InlineData(PModelArch.ResNet20, false)]
    [InlineData(PModelArch.Cnn5k, true)]
    public void SplitThenJoinIsIdentity(PModelArch arch, bool rows)
    {
        var tok = ParameterTokenizer.For(arch, classifierRowTokens: rows);
        using var x = Randn(3, 5, tok.ParameterCount);
        var parts = tok.Split(x);
        Assert.Equal(tok.Count, parts.Length);
        for (int i = 0; i < parts.Length; i++) Assert.Equal([5L, tok.Tokens[i].Length], parts[i].shape);
        using var joined = tok.Join(parts);
        Assert.True(joined.equal(x).all().item<bool>());
        foreach (var p in parts) p.Dispose();
    }

    [Fact]
    public void RejectsWrongWidths()
    {
        var tok = ParameterTokenizer.For(PModelArch.ResNet20);
        using var x = Randn(1, 2, 649);
        Assert.Throws<ArgumentException>(() => tok.Split(x));
    }
}
