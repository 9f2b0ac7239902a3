using System.Collections.Concurrent;
using System.Formats.Tar;
using System.IO.Compression;
using Tina.Data;

namespace Tina.Tests.Data;

/// <summary>
/// One <see cref="DatasetStore"/> over the shared archives with its cache under the reusable test artifacts folder,
/// and each dataset opened at most once per test run (test classes run in parallel; this avoids decoding twice).
/// </summary>
internal static class SharedDatasets
{
    private static readonly ConcurrentDictionary<string, Lazy<ImageDataset>> Opened = new();

    public static DatasetStore Store { get; } = new(TestData.DataDir, TestData.ArtifactsDir);

    public static ImageDataset Get(string id) =>
        Opened.GetOrAdd(id, key => new Lazy<ImageDataset>(() => Store.Open(key), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    public static string Archive(string fileName) => Path.Combine(TestData.DataDir, fileName);

    /// <summary>The raw bytes of the archive members whose path satisfies <paramref name="match"/>, in archive order.</summary>
    public static List<(string Path, byte[] Data)> Members(string archive, Func<string, bool> match, int max = int.MaxValue)
    {
        var found = new List<(string, byte[])>();
        using var fs = File.OpenRead(archive);
        using var gz = new GZipStream(fs, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        while (found.Count < max && tar.GetNextEntry() is { } e)
        {
            if (e.DataStream is null || !match(e.Name)) continue;
            using var ms = new MemoryStream();
            e.DataStream.CopyTo(ms);
            found.Add((e.Name, ms.ToArray()));
        }
        return found;
    }
}
