using System.Runtime.InteropServices;
using System.Text;

namespace Tina.Text;

/// <summary>Writes a vocabulary and its vectors as a binary GloVe cache (<see cref="GloveCacheFormat"/>), atomically.</summary>
internal static class GloveCacheWriter
{
    /// <summary>
    /// Writes <paramref name="words"/> (in frequency-rank order) and their vectors (<paramref name="matrix"/>,
    /// row-major [words.Length, dimension]) to <paramref name="path"/>. Throws <see cref="ArgumentException"/> on
    /// duplicate or empty words.
    /// </summary>
    public static void Write(string path, string sourceId, int dimension, float[] matrix, IReadOnlyList<string> words)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The GloVe cache is little-endian only.");
        int n = words.Count;
        if (matrix.Length != (long)n * dimension)
            throw new ArgumentException($"Matrix has {matrix.Length} floats, expected {n} × {dimension}.");

        var utf8 = new byte[n][];
        var offsets = new int[n + 1];
        long blobLength = 0;
        for (int i = 0; i < n; i++)
        {
            if (string.IsNullOrEmpty(words[i])) throw new ArgumentException($"Empty word at rank {i + 1}.");
            utf8[i] = Encoding.UTF8.GetBytes(words[i]);
            offsets[i] = checked((int)blobLength);
            blobLength += utf8[i].Length;
        }
        offsets[n] = checked((int)blobLength);

        var index = new int[n];
        for (int i = 0; i < n; i++) index[i] = i;
        Array.Sort(index, (a, b) => utf8[a].AsSpan().SequenceCompareTo(utf8[b]));
        for (int i = 1; i < n; i++)
            if (utf8[index[i - 1]].AsSpan().SequenceEqual(utf8[index[i]]))
                throw new ArgumentException($"Duplicate word in the vocabulary: {words[index[i]]}");

        var header = GloveCacheFormat.Layout(dimension, n, sourceId, blobLength);
        AtomicFile.Write(path, stream =>
        {
            // Not disposed: that would close AtomicFile's stream before it flushes it to disk.
            var output = new BufferedStream(stream, 1 << 20);
            var headerBytes = new byte[GloveCacheFormat.HeaderSize];
            GloveCacheFormat.Write(headerBytes, header);
            output.Write(headerBytes);
            output.Write(MemoryMarshal.AsBytes(matrix.AsSpan()));
            Pad(output, header.WordOffsetsOffset);
            output.Write(MemoryMarshal.AsBytes(offsets.AsSpan()));
            Pad(output, header.IndexOffset);
            output.Write(MemoryMarshal.AsBytes(index.AsSpan()));
            Pad(output, header.BlobOffset);
            foreach (var w in utf8) output.Write(w);
            if (output.Position != header.FileLength)
                throw new InvalidOperationException($"GloVe cache writer produced {output.Position} bytes, layout says {header.FileLength}.");
            output.Flush();
        });
    }

    private static void Pad(Stream s, long offset)
    {
        while (s.Position < offset) s.WriteByte(0);
    }
}
