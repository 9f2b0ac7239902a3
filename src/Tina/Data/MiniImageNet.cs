using System.Text;

namespace Tina.Data;

/// <summary>
/// Reads Mini-ImageNet at 32×32 from <c>mini-imagenet-32.tar.gz</c>: <c>mini-imagenet-32/{train,val}/&lt;wnid&gt;/&lt;file&gt;.jpg</c>
/// plus <c>mini-imagenet-32/class_names.tsv</c> (tab-separated: wnid, first WordNet lemma, all lemmas). The train
/// split is <c>train/</c> (500 images per class), the test split is <c>val/</c> (100 per class).
/// </summary>
/// <remarks>
/// Classes are the wnids found under <c>train/</c>, sorted ordinally; a class's display name is its first lemma with
/// '_' turned into ' ' (n01532829 → "house finch"). Images are listed by class, then by file name, and resized to
/// 32×32 by <see cref="ImageDecoder"/> (a no-op for images that are already 32×32).
/// </remarks>
public static class MiniImageNet
{
    /// <summary>File name of the archive.</summary>
    public const string ArchiveName = "mini-imagenet-32.tar.gz";

    /// <summary>Top folder inside the archive.</summary>
    public const string RootFolder = "mini-imagenet-32";

    /// <summary>Name of the class list inside <see cref="RootFolder"/>.</summary>
    public const string ClassNamesFile = "class_names.tsv";

    /// <summary>Reads and decodes both splits.</summary>
    /// <exception cref="TinaFileNotFoundException">The archive does not exist.</exception>
    /// <exception cref="CorruptFileException">The archive is damaged, lacks the class list, has images of unknown
    /// classes or an image that does not decode.</exception>
    public static ImageDataset Load(string archivePath, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireFile(archivePath);
        var members = TarGzArchive.Read(archivePath, p => p == $"{RootFolder}/{ClassNamesFile}" || Classify(p) is not null, progress, cancellationToken);
        var (wnids, names, train, test) = Index(archivePath, members);
        var trainSet = new ImageSet(
            ImageDecoder.DecodeAll(archivePath, train.Select(x => x.Member).ToList(), progress, cancellationToken, "Decoding train images"),
            train.Select(x => x.Label).ToArray());
        var testSet = new ImageSet(
            ImageDecoder.DecodeAll(archivePath, test.Select(x => x.Member).ToList(), progress, cancellationToken, "Decoding test images"),
            test.Select(x => x.Label).ToArray());
        return new ImageDataset("miniimagenet", names, trainSet, testSet);
    }

    /// <summary>Counts classes and images per split from the archive's file list, without decoding any image.</summary>
    /// <exception cref="CorruptFileException">The archive is damaged or inconsistent.</exception>
    public static DatasetCounts Scan(string archivePath, CancellationToken cancellationToken = default)
    {
        RequireFile(archivePath);
        var members = TarGzArchive.Read(archivePath, p => p == $"{RootFolder}/{ClassNamesFile}", null, cancellationToken);
        var (wnids, _, train, test) = Index(archivePath, members);
        return new DatasetCounts(wnids.Count, train.Count, test.Count);
    }

    /// <summary>Parses <c>class_names.tsv</c> into wnid → display name (first lemma, '_' → ' ').</summary>
    /// <exception cref="FormatException">A line does not have at least two tab-separated fields.</exception>
    public static Dictionary<string, string> ParseClassNames(string tsv)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in tsv.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            var fields = line.Split('\t');
            if (fields.Length < 2 || fields[0].Trim().Length == 0 || fields[1].Trim().Length == 0)
                throw new FormatException($"line {lineNo} of {ClassNamesFile} is not 'wnid<TAB>name<TAB>lemmas'");
            map[fields[0].Trim()] = ImageDataset.DisplayName(fields[1]);
        }
        return map;
    }

    private static void RequireFile(string archivePath)
    {
        if (!File.Exists(archivePath))
            throw new TinaFileNotFoundException(archivePath,
                $"Put {ArchiveName} in {Path.GetDirectoryName(Path.GetFullPath(archivePath))}; there is no official 32-pixel download (see 'tina data fetch miniimagenet').");
    }

    /// <summary>(split, wnid) of an image member, or null when the member is not a split image.</summary>
    private static (bool Train, string Wnid)? Classify(string path)
    {
        var parts = path.Split('/');
        if (parts.Length != 4 || parts[0] != RootFolder || parts[1] is not ("train" or "val") || parts[2].Length == 0) return null;
        var ext = Path.GetExtension(parts[3]).ToLowerInvariant();
        if (parts[3].StartsWith('.') || ext is not (".jpg" or ".jpeg" or ".png")) return null;
        return (parts[1] == "train", parts[2]);
    }

    private static (List<string> Wnids, string[] Names, List<(TarGzArchive.Member Member, int Label)> Train, List<(TarGzArchive.Member Member, int Label)> Test)
        Index(string archivePath, List<TarGzArchive.Member> members)
    {
        var tsvMember = members.FirstOrDefault(m => m.Path == $"{RootFolder}/{ClassNamesFile}")
            ?? throw new CorruptFileException(archivePath, $"member {RootFolder}/{ClassNamesFile} is missing");
        Dictionary<string, string> classNames;
        try
        {
            classNames = ParseClassNames(Encoding.UTF8.GetString(tsvMember.Data!));
        }
        catch (FormatException e)
        {
            throw new CorruptFileException(archivePath, e.Message, e);
        }

        var images = members.Select(m => (Member: m, Where: Classify(m.Path))).Where(x => x.Where is not null).ToList();
        var wnids = images.Where(x => x.Where!.Value.Train).Select(x => x.Where!.Value.Wnid).Distinct().Order(StringComparer.Ordinal).ToList();
        if (wnids.Count == 0) throw new CorruptFileException(archivePath, $"no images under {RootFolder}/train/<wnid>/");
        var label = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < wnids.Count; i++) label[wnids[i]] = i;

        var names = new string[wnids.Count];
        for (int i = 0; i < wnids.Count; i++)
            names[i] = classNames.TryGetValue(wnids[i], out var n) ? n
                : throw new CorruptFileException(archivePath, $"class {wnids[i]} has images but no line in {ClassNamesFile}");
        var clash = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new CorruptFileException(archivePath, $"two classes are both named '{clash.Key}' in {ClassNamesFile}");

        var train = new List<(TarGzArchive.Member, int)>();
        var test = new List<(TarGzArchive.Member, int)>();
        foreach (var (member, where) in images.OrderBy(x => x.Member.Path, StringComparer.Ordinal))
        {
            var (isTrain, wnid) = where!.Value;
            if (!label.TryGetValue(wnid, out var l))
                throw new CorruptFileException(archivePath, $"val/{wnid} is a class with no training images");
            (isTrain ? train : test).Add((member, l));
        }
        // Ordinal path order is class-major already (…/train/<wnid>/<file>), so labels come out grouped and ascending.
        var testClasses = test.Select(t => t.Item2).ToHashSet();
        var missing = wnids.Where(w => !testClasses.Contains(label[w])).ToList();
        if (test.Count == 0 || missing.Count > 0)
            throw new CorruptFileException(archivePath, $"{missing.Count} classes have no val/ images (e.g. {missing.FirstOrDefault()})");
        return (wnids, names, train, test);
    }
}
