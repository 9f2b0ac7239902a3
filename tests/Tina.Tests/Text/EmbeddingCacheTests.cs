using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>The on-disk (encoder id, text) → vector cache.</summary>
public sealed class EmbeddingCacheTests
{
    /// <summary>A deterministic fake encoder that counts the texts it encodes.</summary>
    private sealed class CountingEncoder(string id) : ITextEncoder
    {
        public int Encoded { get; private set; }
        public string Id => id;
        public int Dimension => 3;

        public float[][] Encode(IReadOnlyList<string> texts)
        {
            Encoded += texts.Count;
            return texts.Select(t => new float[] { t.Length, id.Length, t.Length > 0 ? t[0] : 0 }).ToArray();
        }

        public void Dispose() { }
    }

    [Fact]
    public void EncodesOnlyMissingTexts_AndPersists()
    {
        var path = EmbeddingCache.DefaultPath(TestData.TempDir());
        var encoder = new CountingEncoder("fake@1");
        var cache = new EmbeddingCache(path);
        var first = cache.GetOrEncode(encoder, ["apple", "pear", "apple"]);
        Assert.Equal(2, encoder.Encoded);
        Assert.Equal(first[0], first[2]);
        cache.GetOrEncode(encoder, ["pear", "tank"]);
        Assert.Equal(3, encoder.Encoded);
        Assert.True(File.Exists(path));

        var reopened = new EmbeddingCache(path);
        Assert.Equal(3, reopened.Count);
        var again = reopened.GetOrEncode(encoder, ["apple", "pear", "tank"]);
        Assert.Equal(3, encoder.Encoded);
        Assert.Equal(first[0], again[0]);
        Assert.True(reopened.TryGet("fake@1", "tank", out var tank));
        Assert.Equal([4f, 6f, 't'], tank);
        Assert.False(reopened.TryGet("other@1", "tank", out _));
    }

    [Fact]
    public void EncodersAreSeparated_AndConcurrentWritersMerge()
    {
        var path = EmbeddingCache.DefaultPath(TestData.TempDir());
        var a = new EmbeddingCache(path);
        var b = new EmbeddingCache(path); // opened before a writes anything
        a.GetOrEncode(new CountingEncoder("enc-a"), ["apple"]);
        b.GetOrEncode(new CountingEncoder("enc-bb"), ["apple"]);
        var merged = new EmbeddingCache(path);
        Assert.Equal(2, merged.Count);
        Assert.True(merged.TryGet("enc-a", "apple", out var va));
        Assert.True(merged.TryGet("enc-bb", "apple", out var vb));
        Assert.NotEqual(va, vb);
    }

    [Fact]
    public void ReturnedVectorsAreCopies()
    {
        var cache = new EmbeddingCache(EmbeddingCache.DefaultPath(TestData.TempDir()));
        var encoder = new CountingEncoder("fake@1");
        cache.GetOrEncode(encoder, ["apple"])[0][0] = 999;
        Assert.Equal(5f, cache.GetOrEncode(encoder, ["apple"])[0][0]);
    }

    [Fact]
    public void CorruptFile_IsTypedError()
    {
        var path = EmbeddingCache.DefaultPath(TestData.TempDir());
        new EmbeddingCache(path).GetOrEncode(new CountingEncoder("fake@1"), ["apple", "pear"]);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        Assert.Throws<CorruptFileException>(() => new EmbeddingCache(path));
        File.WriteAllText(path, "garbage!");
        Assert.Throws<CorruptFileException>(() => new EmbeddingCache(path));
    }
}
