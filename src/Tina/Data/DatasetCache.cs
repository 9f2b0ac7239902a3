using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;

namespace Tina.Data;

/// <summary>
/// The decoded-dataset cache: one binary file per dataset holding everything <see cref="ImageDataset"/> has, so that
/// opening a dataset a second time is a few big sequential reads instead of decompressing and decoding the archive.
/// </summary>
/// <remarks>
/// Layout (little-endian): the 8 ASCII bytes <c>TINADSC\n</c>, int32 format version, int32 header length, the header,
/// uint64 checksum of the header, then train labels (int32 each), test labels, train pixels, test pixels (CHW bytes,
/// 3,072 per image) and a uint64 checksum of those four arrays. The header holds the dataset id, the archive's
/// length and last-write time (UTC ticks; a replaced archive makes the cache stale), class names, superclass names
/// and the class → superclass map (CIFAR-100), and both split sizes. Strings are length-prefixed UTF-8.
/// Any mismatch (magic, version, stamp, length, checksum) makes the reader report the cache as unusable; the store
/// then rebuilds it from the archive.
/// </remarks>
internal static class DatasetCache
{
    private static ReadOnlySpan<byte> Magic => "TINADSC\n"u8;

    /// <summary>Format version; bump it whenever the layout or the decoding (resize filter, split) changes.</summary>
    public const int Version = 1;

    private const int MaxHeader = 16 << 20;

    /// <summary>Identity of an archive file as seen by the cache: its length and last-write time.</summary>
    internal readonly record struct ArchiveStamp(long Length, long LastWriteUtcTicks)
    {
        public static ArchiveStamp Of(string path)
        {
            var info = new FileInfo(path);
            return new ArchiveStamp(info.Length, info.LastWriteTimeUtc.Ticks);
        }
    }

    private sealed record Header(string Id, ArchiveStamp Stamp, string[] Classes, string[]? Superclasses,
        int[]? ClassToSuperclass, int TrainCount, int TestCount);

    /// <summary>Writes <paramref name="dataset"/> atomically to <paramref name="path"/>.</summary>
    public static void Write(string path, ImageDataset dataset, ArchiveStamp stamp)
    {
        RequireLittleEndian();
        var header = new MemoryStream();
        using (var w = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(dataset.Name);
            w.Write(stamp.Length);
            w.Write(stamp.LastWriteUtcTicks);
            w.Write(dataset.ClassNames.Count);
            foreach (var c in dataset.ClassNames) w.Write(c);
            var supers = dataset.SuperclassNames;
            w.Write(supers?.Count ?? 0);
            if (supers is not null)
            {
                foreach (var s in supers) w.Write(s);
                foreach (var m in dataset.ClassToSuperclass!) w.Write(m);
            }
            w.Write(dataset.Train.Count);
            w.Write(dataset.Test.Count);
        }
        var headerBytes = header.ToArray();
        AtomicFile.Write(path, s =>
        {
            Span<byte> buf = stackalloc byte[8];
            s.Write(Magic);
            BinaryPrimitives.WriteInt32LittleEndian(buf, Version);
            s.Write(buf[..4]);
            BinaryPrimitives.WriteInt32LittleEndian(buf, headerBytes.Length);
            s.Write(buf[..4]);
            s.Write(headerBytes);
            BinaryPrimitives.WriteUInt64LittleEndian(buf, Checksum.Of(headerBytes));
            s.Write(buf);
            s.Write(MemoryMarshal.AsBytes(dataset.Train.Labels.AsSpan()));
            s.Write(MemoryMarshal.AsBytes(dataset.Test.Labels.AsSpan()));
            s.Write(dataset.Train.Pixels);
            s.Write(dataset.Test.Pixels);
            BinaryPrimitives.WriteUInt64LittleEndian(buf, BodyChecksum(dataset.Train.Labels, dataset.Test.Labels, dataset.Train.Pixels, dataset.Test.Pixels));
            s.Write(buf);
        });
    }

    /// <summary>
    /// Reads only the header: the counts, if the file is a complete cache of <paramref name="id"/> for the archive
    /// <paramref name="stamp"/> (the pixel checksum is not verified here).
    /// </summary>
    public static DatasetCounts? TryReadCounts(string path, string id, ArchiveStamp stamp)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
            var (header, problem) = ReadHeader(fs, id, stamp);
            return header is null ? null : new DatasetCounts(header.Classes.Length, header.TrainCount, header.TestCount);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Loads the cached dataset, or returns null with the reason in <paramref name="problem"/> when the file is
    /// missing, stale (another archive) or damaged.
    /// </summary>
    public static ImageDataset? TryRead(string path, string id, ArchiveStamp stamp, out string? problem)
    {
        RequireLittleEndian();
        if (!File.Exists(path))
        {
            problem = "no cache yet";
            return null;
        }
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            var (header, why) = ReadHeader(fs, id, stamp);
            if (header is null)
            {
                problem = why;
                return null;
            }
            var trainLabels = new int[header.TrainCount];
            var testLabels = new int[header.TestCount];
            var trainPixels = GC.AllocateUninitializedArray<byte>(checked((int)((long)header.TrainCount * ImageSet.ImageBytes)));
            var testPixels = GC.AllocateUninitializedArray<byte>(checked((int)((long)header.TestCount * ImageSet.ImageBytes)));
            fs.ReadExactly(MemoryMarshal.AsBytes(trainLabels.AsSpan()));
            fs.ReadExactly(MemoryMarshal.AsBytes(testLabels.AsSpan()));
            fs.ReadExactly(trainPixels);
            fs.ReadExactly(testPixels);
            Span<byte> buf = stackalloc byte[8];
            fs.ReadExactly(buf);
            if (BinaryPrimitives.ReadUInt64LittleEndian(buf) != BodyChecksum(trainLabels, testLabels, trainPixels, testPixels))
            {
                problem = "checksum mismatch";
                return null;
            }
            problem = null;
            return new ImageDataset(header.Id, header.Classes, new ImageSet(trainPixels, trainLabels), new ImageSet(testPixels, testLabels),
                header.Superclasses, header.ClassToSuperclass);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or OutOfMemoryException)
        {
            problem = $"unreadable ({e.Message})";
            return null;
        }
    }

    /// <summary>Reads and checks everything up to the labels; leaves the stream at the first label.</summary>
    private static (Header? Header, string? Problem) ReadHeader(FileStream fs, string id, ArchiveStamp stamp)
    {
        Span<byte> prefix = stackalloc byte[16];
        if (fs.Read(prefix) != 16 || !prefix[..8].SequenceEqual(Magic)) return (null, "not a Tina dataset cache");
        int version = BinaryPrimitives.ReadInt32LittleEndian(prefix[8..]);
        if (version != Version) return (null, $"cache format {version}, expected {Version}");
        int length = BinaryPrimitives.ReadInt32LittleEndian(prefix[12..]);
        if (length <= 0 || length > MaxHeader || length > fs.Length - 16) return (null, "bad header length");
        var bytes = new byte[length + 8];
        fs.ReadExactly(bytes);
        if (BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(length)) != Checksum.Of(bytes.AsSpan(0, length)))
            return (null, "header checksum mismatch");
        Header header;
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, 0, length), Encoding.UTF8);
            var hid = r.ReadString();
            var hstamp = new ArchiveStamp(r.ReadInt64(), r.ReadInt64());
            var classes = new string[Count(r.ReadInt32())];
            for (int i = 0; i < classes.Length; i++) classes[i] = r.ReadString();
            int nSuper = Count(r.ReadInt32());
            string[]? supers = null;
            int[]? map = null;
            if (nSuper > 0)
            {
                supers = new string[nSuper];
                for (int i = 0; i < nSuper; i++) supers[i] = r.ReadString();
                map = new int[classes.Length];
                for (int i = 0; i < map.Length; i++) map[i] = r.ReadInt32();
            }
            header = new Header(hid, hstamp, classes, supers, map, Count(r.ReadInt32()), Count(r.ReadInt32()));
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or FormatException)
        {
            return (null, $"bad header ({e.Message})");
        }
        if (header.Id != id) return (null, $"cache of '{header.Id}', not '{id}'");
        if (header.Stamp != stamp) return (null, "the archive changed since the cache was written");
        long expected = 16 + length + 8 + 4L * (header.TrainCount + header.TestCount)
                        + (long)ImageSet.ImageBytes * (header.TrainCount + header.TestCount) + 8;
        if (fs.Length != expected) return (null, $"file has {fs.Length:N0} bytes, expected {expected:N0} (truncated?)");
        return (header, null);
    }

    private static int Count(int n) => n is >= 0 and <= 100_000_000 ? n : throw new FormatException($"bad count {n}");

    private static ulong BodyChecksum(int[] trainLabels, int[] testLabels, byte[] trainPixels, byte[] testPixels)
    {
        ulong h = Checksum.Of(MemoryMarshal.AsBytes(trainLabels.AsSpan()));
        h = Checksum.Combine(h, Checksum.Of(MemoryMarshal.AsBytes(testLabels.AsSpan())));
        h = Checksum.Combine(h, Checksum.Of(trainPixels));
        return Checksum.Combine(h, Checksum.Of(testPixels));
    }

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The dataset cache assumes a little-endian machine.");
    }

    /// <summary>
    /// A fast non-cryptographic 64-bit checksum (four independent multiply–rotate lanes in the style of xxHash64; not
    /// bit-compatible with it). Detects truncation, bit rot and torn copies, at several GB/s.
    /// </summary>
    private static class Checksum
    {
        private const ulong P1 = 11400714785074694791UL, P2 = 14029467366897019727UL, P3 = 1609587929392839161UL,
            P4 = 9650029242287828579UL, P5 = 2870177450012600261UL;

        public static ulong Of(ReadOnlySpan<byte> data)
        {
            var words = MemoryMarshal.Cast<byte, ulong>(data);
            ulong a = unchecked(P1 + P2), b = P2, c = 0, d = unchecked(0 - P1);
            int i = 0;
            for (; i + 4 <= words.Length; i += 4)
            {
                a = Round(a, words[i]);
                b = Round(b, words[i + 1]);
                c = Round(c, words[i + 2]);
                d = Round(d, words[i + 3]);
            }
            ulong h = BitOperations.RotateLeft(a, 1) + BitOperations.RotateLeft(b, 7) + BitOperations.RotateLeft(c, 12) + BitOperations.RotateLeft(d, 18);
            for (; i < words.Length; i++) h = BitOperations.RotateLeft(h ^ Round(0, words[i]), 27) * P1 + P4;
            foreach (var t in data[(words.Length * 8)..]) h = BitOperations.RotateLeft(h ^ (t * P5), 11) * P1;
            return Avalanche(h ^ (ulong)data.Length);
        }

        public static ulong Combine(ulong h, ulong next) => Avalanche(BitOperations.RotateLeft(h, 27) * P1 + next * P3);

        private static ulong Round(ulong acc, ulong v) => BitOperations.RotateLeft(acc + v * P2, 31) * P1;

        private static ulong Avalanche(ulong h)
        {
            h ^= h >> 33;
            h *= P2;
            h ^= h >> 29;
            h *= P3;
            return h ^ (h >> 32);
        }
    }
}
