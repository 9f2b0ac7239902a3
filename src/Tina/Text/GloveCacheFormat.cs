using System.Buffers.Binary;
using System.Text;

namespace Tina.Text;

/// <summary>
/// Layout of the binary GloVe cache (<c>*.glove.bin</c>) that <see cref="GloveConverter"/> writes and
/// <see cref="GloveVectors"/> memory-maps. All integers and floats are little-endian.
/// <code>
/// offset  size  field
///      0     8  magic "TinaGloV"
///      8     4  format version (1)
///     12     4  dimension D
///     16     4  word count N
///     20     4  byte length of the source id
///     24    64  source id, UTF-8, zero padded (e.g. "glove-wink-100d@1.1.0")
///     88     8  offset of the matrix: float32[N, D], row r = the word of frequency rank r + 1
///     96     8  offset of the word offsets: int32[N + 1], word r is blob[off[r] .. off[r + 1])
///    104     8  offset of the lookup index: int32[N], rows sorted by the ordinal order of their UTF-8 bytes
///    112     8  offset of the word blob (UTF-8)
///    120     8  total file length (a shorter file is truncated, hence corrupt)
/// </code>
/// Sections follow the 128-byte header in that order, each starting on an 8-byte boundary (the matrix on 128).
/// </summary>
internal static class GloveCacheFormat
{
    public const int Version = 1;
    public const int HeaderSize = 128;
    public const int MaxSourceIdBytes = 64;
    public static ReadOnlySpan<byte> Magic => "TinaGloV"u8;

    /// <summary>Decoded header: sizes, source identity and section offsets.</summary>
    public readonly record struct Header(
        int Dimension, int Count, string SourceId,
        long MatrixOffset, long WordOffsetsOffset, long IndexOffset, long BlobOffset, long FileLength)
    {
        /// <summary>Byte length of the word blob.</summary>
        public long BlobLength => FileLength - BlobOffset;
    }

    /// <summary>Computes the section offsets for a cache of <paramref name="count"/> words.</summary>
    public static Header Layout(int dimension, int count, string sourceId, long blobLength)
    {
        if (Encoding.UTF8.GetByteCount(sourceId) > MaxSourceIdBytes)
            throw new ArgumentException($"Source id longer than {MaxSourceIdBytes} bytes: {sourceId}");
        long matrix = HeaderSize;
        long offsets = Align8(matrix + (long)count * dimension * sizeof(float));
        long index = Align8(offsets + (count + 1L) * sizeof(int));
        long blob = Align8(index + (long)count * sizeof(int));
        return new Header(dimension, count, sourceId, matrix, offsets, index, blob, blob + blobLength);
    }

    /// <summary>Serialises <paramref name="h"/> into the first <see cref="HeaderSize"/> bytes of <paramref name="dest"/>.</summary>
    public static void Write(Span<byte> dest, Header h)
    {
        dest[..HeaderSize].Clear();
        Magic.CopyTo(dest);
        BinaryPrimitives.WriteInt32LittleEndian(dest[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(dest[12..], h.Dimension);
        BinaryPrimitives.WriteInt32LittleEndian(dest[16..], h.Count);
        int idLength = Encoding.UTF8.GetBytes(h.SourceId, dest.Slice(24, MaxSourceIdBytes));
        BinaryPrimitives.WriteInt32LittleEndian(dest[20..], idLength);
        BinaryPrimitives.WriteInt64LittleEndian(dest[88..], h.MatrixOffset);
        BinaryPrimitives.WriteInt64LittleEndian(dest[96..], h.WordOffsetsOffset);
        BinaryPrimitives.WriteInt64LittleEndian(dest[104..], h.IndexOffset);
        BinaryPrimitives.WriteInt64LittleEndian(dest[112..], h.BlobOffset);
        BinaryPrimitives.WriteInt64LittleEndian(dest[120..], h.FileLength);
    }

    /// <summary>
    /// Reads and validates a header. Returns <c>null</c> when the file is a cache of another format version (the
    /// caller rebuilds it); throws <see cref="CorruptFileException"/> when it is not a consistent cache at all.
    /// </summary>
    public static Header? Read(ReadOnlySpan<byte> src, string path, long actualLength)
    {
        if (src.Length < HeaderSize || !src[..8].SequenceEqual(Magic))
            throw new CorruptFileException(path, "not a Tina GloVe cache (bad magic)");
        if (BinaryPrimitives.ReadInt32LittleEndian(src[8..]) != Version) return null;
        int dim = BinaryPrimitives.ReadInt32LittleEndian(src[12..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(src[16..]);
        int idLength = BinaryPrimitives.ReadInt32LittleEndian(src[20..]);
        if (dim <= 0 || count <= 0 || idLength <= 0 || idLength > MaxSourceIdBytes)
            throw new CorruptFileException(path, $"invalid header (dimension {dim}, count {count})");
        var sourceId = Encoding.UTF8.GetString(src.Slice(24, idLength));
        long fileLength = BinaryPrimitives.ReadInt64LittleEndian(src[120..]);
        var expected = Layout(dim, count, sourceId, fileLength - BinaryPrimitives.ReadInt64LittleEndian(src[112..]));
        var h = new Header(dim, count, sourceId,
            BinaryPrimitives.ReadInt64LittleEndian(src[88..]), BinaryPrimitives.ReadInt64LittleEndian(src[96..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[104..]), BinaryPrimitives.ReadInt64LittleEndian(src[112..]),
            fileLength);
        if (h != expected || h.BlobLength < 0)
            throw new CorruptFileException(path, "inconsistent section offsets in the header");
        if (actualLength != h.FileLength)
            throw new CorruptFileException(path, $"file is {actualLength} bytes, header promises {h.FileLength} (truncated?)");
        return h;
    }

    private static long Align8(long x) => (x + 7) & ~7L;
}
