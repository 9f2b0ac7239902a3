using System.Text;
using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>The JSON → binary conversion and the memory-mapped reader, on a tiny generated vocabulary.</summary>
public sealed class GloveCacheTests
{
    [Fact]
    public void Conversion_RoundTripsWordsRanksAndVectors()
    {
        using var vectors = GloveVectors.Open(GloveFixture.Cache());
        Assert.Equal("fixture@0", vectors.SourceId);
        Assert.Equal(4, vectors.Dimension);
        Assert.Equal(GloveFixture.Words.Length, vectors.Count);
        for (int i = 0; i < GloveFixture.Words.Length; i++)
        {
            var (word, expected) = GloveFixture.Words[i];
            Assert.Equal(i, vectors.IndexOf(word));
            Assert.Equal(word, vectors.WordAt(i));
            Assert.Equal(expected, vectors.Vector(i));
        }
        Assert.Equal(-1, vectors.IndexOf("Apple")); // exact match; the encoder lower-cases
        Assert.Equal(-1, vectors.IndexOf("zebra"));
        Assert.Equal(-1, vectors.IndexOf(""));
        Assert.Equal(-1, vectors.IndexOf(new string('a', 1000)));
    }

    [Fact]
    public void Tarball_IsReadWithoutExtracting()
    {
        var dir = TestData.TempDir();
        var tgz = Path.Combine(dir, "fixture.tgz");
        GloveFixture.WriteTarball(tgz, GloveFixture.Json(GloveFixture.Words));
        var cache = Path.Combine(dir, "out", "fixture.bin");
        var result = GloveConverter.ConvertTarball(tgz, GloveSetup.JsonEntry, cache, "fixture@0");
        Assert.Equal(GloveFixture.Words.Length, result.Words);
        Assert.Equal(4, result.Dimension);
        Assert.Equal(new FileInfo(cache).Length, result.CacheBytes);
        using var vectors = GloveVectors.Open(cache);
        Assert.Equal(GloveFixture.Words[4].Vector, vectors.Vector(vectors.IndexOf("apple")));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(cache)!, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void WrongStoredNorm_IsCorrupt()
    {
        var json = GloveFixture.Json(GloveFixture.Words, (i, norm) => i == 3 ? norm * 1.01 : norm);
        var e = Assert.Throws<CorruptFileException>(() => GloveFixture.Cache(json));
        Assert.Contains("tree", e.Message);
    }

    [Theory]
    [InlineData("{\"size\":1,\"dimensions\":2,\"l2NormIndex\":2,\"wordIndex\":3,\"vectors\":{\"a\":[1,0,1]}}")] // too short
    [InlineData("{\"size\":2,\"dimensions\":2,\"l2NormIndex\":2,\"wordIndex\":3,\"vectors\":{\"a\":[1,0,1,0],\"b\":[0,1,1,0]}}")] // same index
    [InlineData("{\"size\":1,\"dimensions\":2,\"l2NormIndex\":2,\"wordIndex\":3,\"vectors\":{\"a\":[1,0,1,0]")] // truncated JSON
    [InlineData("{\"vectors\":{\"a\":[1,0,1,0]},\"size\":1,\"dimensions\":2,\"l2NormIndex\":2,\"wordIndex\":3}")] // header after vectors
    [InlineData("{\"size\":1,\"dimensions\":2,\"l2NormIndex\":2,\"wordIndex\":3,\"words\":[\"b\"],\"vectors\":{\"a\":[1,0,1,0]}}")] // words disagree
    public void InconsistentJson_IsCorrupt(string json)
    {
        Assert.Throws<CorruptFileException>(() => GloveFixture.Cache(json));
    }

    [Fact]
    public void TruncatedOrForeignCache_IsCorrupt()
    {
        var cache = GloveFixture.Cache();
        var bytes = File.ReadAllBytes(cache);
        File.WriteAllBytes(cache, bytes[..^10]);
        Assert.Contains("truncated", Assert.Throws<CorruptFileException>(() => GloveVectors.Open(cache)).Message);
        File.WriteAllBytes(cache, Encoding.ASCII.GetBytes("not a cache at all"));
        Assert.Throws<CorruptFileException>(() => GloveVectors.Open(cache));
        Assert.Throws<TinaFileNotFoundException>(() => GloveVectors.Open(cache + ".missing"));
    }
}
