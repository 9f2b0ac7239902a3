using System.Formats.Tar;
using System.IO.Compression;

namespace Tina.Data;

/// <summary>
/// Reads CIFAR-100 from the official binary archive <c>cifar-100-binary.tar.gz</c>
/// (<c>cifar-100-binary/{train.bin,test.bin,fine_label_names.txt,coarse_label_names.txt}</c>; each record is
/// 3,074 bytes: coarse label, fine label, 1,024 R + 1,024 G + 1,024 B bytes of a 32×32 image).
/// </summary>
public static class Cifar100
{
    /// <summary>File name of the official archive.</summary>
    public const string ArchiveName = "cifar-100-binary.tar.gz";

    private const int RecordBytes = 2 + ImageSet.ImageBytes;

    /// <summary>Reads the whole dataset (50,000 train + 10,000 test images) straight from the archive stream.</summary>
    /// <exception cref="CorruptFileException">The archive is truncated, not a tar.gz, or lacks a member.</exception>
    public static ImageDataset Load(string archivePath)
    {
        if (!File.Exists(archivePath))
            throw new TinaFileNotFoundException(archivePath, "Run 'tina data fetch cifar100' or put the official cifar-100-binary.tar.gz there.");
        var members = new Dictionary<string, byte[]>();
        try
        {
            using var fs = File.OpenRead(archivePath);
            using var gz = new GZipStream(fs, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                var name = Path.GetFileName(entry.Name);
                if (name is "train.bin" or "test.bin" or "fine_label_names.txt" or "coarse_label_names.txt")
                {
                    using var ms = new MemoryStream();
                    entry.DataStream.CopyTo(ms);
                    members[name] = ms.ToArray();
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or IOException && e is not ITinaError)
        {
            throw new CorruptFileException(archivePath, $"not a readable tar.gz archive ({e.Message})", e);
        }
        foreach (var need in new[] { "train.bin", "test.bin", "fine_label_names.txt", "coarse_label_names.txt" })
            if (!members.ContainsKey(need)) throw new CorruptFileException(archivePath, $"member cifar-100-binary/{need} is missing");

        var fine = Names(members["fine_label_names.txt"]);
        var coarse = Names(members["coarse_label_names.txt"]);
        if (fine.Length != 100 || coarse.Length != 20)
            throw new CorruptFileException(archivePath, $"expected 100 fine and 20 coarse label names, found {fine.Length} and {coarse.Length}");
        var classToSuper = Enumerable.Repeat(-1, 100).ToArray();
        var train = Parse(members["train.bin"], 50_000, classToSuper, archivePath, "train.bin");
        var test = Parse(members["test.bin"], 10_000, classToSuper, archivePath, "test.bin");
        return new ImageDataset("cifar100", fine, train, test, coarse, classToSuper);
    }

    private static string[] Names(byte[] text) =>
        System.Text.Encoding.ASCII.GetString(text).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ImageDataset.DisplayName).ToArray();

    private static ImageSet Parse(byte[] bin, int expected, int[] classToSuper, string archive, string member)
    {
        if (bin.Length != expected * RecordBytes)
            throw new CorruptFileException(archive, $"{member} has {bin.Length} bytes, expected {expected} records of {RecordBytes} bytes");
        var pixels = new byte[expected * ImageSet.ImageBytes];
        var labels = new int[expected];
        for (int i = 0; i < expected; i++)
        {
            int o = i * RecordBytes;
            int coarse = bin[o], fine = bin[o + 1];
            if (fine >= 100 || coarse >= 20) throw new CorruptFileException(archive, $"{member} record {i} has labels {coarse}/{fine}");
            if (classToSuper[fine] >= 0 && classToSuper[fine] != coarse)
                throw new CorruptFileException(archive, $"{member}: class {fine} appears under two superclasses");
            classToSuper[fine] = coarse;
            labels[i] = fine;
            bin.AsSpan(o + 2, ImageSet.ImageBytes).CopyTo(pixels.AsSpan(i * ImageSet.ImageBytes));
        }
        return new ImageSet(pixels, labels);
    }
}
