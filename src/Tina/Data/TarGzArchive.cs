using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;

namespace Tina.Data;

/// <summary>
/// Streams the regular files out of a <c>.tar.gz</c> archive in archive order, turning every sign of damage
/// (bad gzip data, a failed CRC, a truncated tar or gzip stream) into a <see cref="CorruptFileException"/> that names
/// the archive. A truncated gzip stream is not reported by <see cref="GZipStream"/> itself (it just ends early), so
/// after the tar end the rest of the stream is drained (which makes zlib check the CRC) and the decompressed length
/// is compared with the ISIZE field of the gzip trailer.
/// </summary>
internal static class TarGzArchive
{
    /// <summary>A regular file in the archive: its path (forward slashes, no leading "./"), size and, if asked for, content.</summary>
    internal sealed record Member(string Path, long Size, byte[]? Data);

    /// <summary>
    /// Reads every regular file of the archive; the content is kept only for paths where <paramref name="keepData"/>
    /// is true (the others are skipped without copying).
    /// </summary>
    /// <exception cref="CorruptFileException">The archive is not a complete, valid tar.gz.</exception>
    public static List<Member> Read(string archivePath, Func<string, bool> keepData,
        IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var stage = $"Reading {System.IO.Path.GetFileName(archivePath)}";
        var members = new List<Member>();
        try
        {
            using var fs = new FileStream(archivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            long compressedLength = fs.Length;
            using var gz = new GZipStream(fs, CompressionMode.Decompress);
            using var counted = new CountingStream(gz);
            using (var tar = new TarReader(counted, leaveOpen: true))
            {
                int lastPercent = -1;
                progress?.Report(new DatasetProgress(stage, 0));
                while (tar.GetNextEntry() is { } entry)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
                        continue;
                    var path = Normalize(entry.Name);
                    byte[]? data = null;
                    if (entry.DataStream is not null && keepData(path))
                    {
                        data = new byte[entry.Length];
                        entry.DataStream.ReadExactly(data);
                    }
                    members.Add(new Member(path, entry.Length, data));
                    int percent = (int)(100 * fs.Position / Math.Max(1, compressedLength));
                    if (percent != lastPercent && progress is not null)
                    {
                        lastPercent = percent;
                        progress.Report(new DatasetProgress(stage, Math.Min(1.0, percent / 100.0)));
                    }
                }
            }
            // Drain the padding after the tar end so that zlib reaches (and checks) the gzip trailer.
            var buffer = new byte[1 << 16];
            while (counted.Read(buffer) > 0) { }
            uint expectedSize = ReadGzipISize(archivePath, compressedLength);
            if ((uint)counted.BytesRead != expectedSize)
                throw new CorruptFileException(archivePath,
                    $"the gzip stream is truncated (decompressed {counted.BytesRead:N0} bytes, the trailer says {expectedSize:N0} mod 2^32); download it again");
            progress?.Report(new DatasetProgress(stage, 1));
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException
                                      or ArgumentException or OverflowException or IOException
                                  && e is not FileNotFoundException and not DirectoryNotFoundException and not ITinaError)
        {
            throw new CorruptFileException(archivePath, $"not a complete tar.gz archive ({e.Message}); download it again", e);
        }
        return members;
    }

    /// <summary>Path with forward slashes and without a leading "./" or "/".</summary>
    internal static string Normalize(string name)
    {
        var p = name.Replace('\\', '/');
        while (p.StartsWith("./", StringComparison.Ordinal)) p = p[2..];
        return p.TrimStart('/');
    }

    private static uint ReadGzipISize(string archivePath, long length)
    {
        if (length < 18) throw new CorruptFileException(archivePath, "too short to be a gzip file");
        Span<byte> tail = stackalloc byte[4];
        using var handle = File.OpenHandle(archivePath);
        RandomAccess.Read(handle, tail, length - 4);
        return BinaryPrimitives.ReadUInt32LittleEndian(tail);
    }

    /// <summary>A read-only pass-through stream that counts the bytes read.</summary>
    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            BytesRead += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
