namespace Tina.Data;

/// <summary>
/// Reads Caltech-101 from its official archive <c>101_ObjectCategories.tar.gz</c> (layout
/// <c>101_ObjectCategories/&lt;class&gt;/image_NNNN.jpg</c>), decoding every image to 32×32 RGB, and splits each
/// class 8:2 into train and test with a fixed seed.
/// </summary>
/// <remarks>
/// <para>Classes are the category folders sorted ordinally (so labels are stable); the display name is the folder
/// name with '_' turned into ' ' and its case kept ("Faces_easy" → "Faces easy"). The <c>BACKGROUND_Google</c>
/// folder is clutter, not an object category, and is left out (as usual for Caltech-101). Files other than
/// .jpg/.jpeg/.png are ignored.</para>
/// <para>Split: within each class the files are sorted by name, shuffled by a Fisher–Yates shuffle driven by
/// SplitMix64 seeded with <see cref="SplitSeed"/> (one generator, classes taken in label order), and the first
/// <see cref="TestCount"/> of them go to the test split. Both splits list images by class, then by file name. The
/// generator is implemented here, so the split is identical on every machine and .NET version.</para>
/// </remarks>
public static class Caltech101
{
    /// <summary>File name of the official archive.</summary>
    public const string ArchiveName = "101_ObjectCategories.tar.gz";

    /// <summary>Top folder inside the archive.</summary>
    public const string RootFolder = "101_ObjectCategories";

    /// <summary>The clutter folder of the official release, which is not a class.</summary>
    public const string BackgroundFolder = "BACKGROUND_Google";

    /// <summary>Seed of the train/test split.</summary>
    public const ulong SplitSeed = 42;

    /// <summary>Part of each class that goes to the test split (8:2).</summary>
    public const double TestFraction = 0.2;

    /// <summary>Reads, decodes and splits the whole dataset.</summary>
    /// <exception cref="TinaFileNotFoundException">The archive does not exist.</exception>
    /// <exception cref="CorruptFileException">The archive is damaged, has no images, or an image does not decode.</exception>
    public static ImageDataset Load(string archivePath, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        RequireFile(archivePath);
        var members = TarGzArchive.Read(archivePath, p => ImagePath(p) is not null, progress, cancellationToken);
        var (folders, images) = Index(archivePath, members);
        var ordered = images.SelectMany(list => list).ToList();
        var pixels = ImageDecoder.DecodeAll(archivePath, ordered, progress, cancellationToken);

        // Positions of each class's images inside `ordered` (class-major, name-sorted).
        var trainIdx = new List<int>();
        var testIdx = new List<int>();
        var labelsOf = new List<int>();
        var rng = new SplitMix64(SplitSeed);
        int offset = 0;
        for (int c = 0; c < folders.Count; c++)
        {
            int n = images[c].Count;
            var isTest = TestMask(n, rng);
            for (int k = 0; k < n; k++) (isTest[k] ? testIdx : trainIdx).Add(offset + k);
            for (int k = 0; k < n; k++) labelsOf.Add(c);
            offset += n;
        }
        var names = folders.Select(ImageDataset.DisplayName).ToArray();
        return new ImageDataset("caltech101", names, Gather(pixels, labelsOf, trainIdx), Gather(pixels, labelsOf, testIdx));
    }

    /// <summary>Counts classes and split sizes from the archive's file list, without decoding any image.</summary>
    /// <exception cref="CorruptFileException">The archive is damaged or has no images.</exception>
    public static DatasetCounts Scan(string archivePath, CancellationToken cancellationToken = default)
    {
        RequireFile(archivePath);
        var members = TarGzArchive.Read(archivePath, _ => false, null, cancellationToken);
        var (folders, images) = Index(archivePath, members);
        int test = images.Sum(list => TestCount(list.Count));
        int total = images.Sum(list => list.Count);
        return new DatasetCounts(folders.Count, total - test, test);
    }

    /// <summary>
    /// Test images taken from a class of <paramref name="n"/> images: 20 % rounded to the nearest integer (halves up),
    /// at least one when the class has two or more images, and never all of them.
    /// </summary>
    public static int TestCount(int n)
    {
        if (n < 2) return 0;
        int t = (int)Math.Round(n * TestFraction, MidpointRounding.AwayFromZero);
        return Math.Clamp(t, 1, n - 1);
    }

    private static void RequireFile(string archivePath)
    {
        if (!File.Exists(archivePath))
            throw new TinaFileNotFoundException(archivePath,
                $"Put the official {ArchiveName} in {Path.GetDirectoryName(Path.GetFullPath(archivePath))} or run 'tina data fetch caltech101'.");
    }

    /// <summary>The class folder of an image member, or null when the member is not a class image.</summary>
    private static string? ImagePath(string path)
    {
        var parts = path.Split('/');
        if (parts.Length != 3 || parts[0] != RootFolder || parts[1].Length == 0 || parts[1] == BackgroundFolder) return null;
        var ext = Path.GetExtension(parts[2]).ToLowerInvariant();
        if (parts[2].StartsWith('.') || ext is not (".jpg" or ".jpeg" or ".png")) return null;
        return parts[1];
    }

    /// <summary>Class folders sorted ordinally and each class's image members sorted by path.</summary>
    private static (List<string> Folders, List<List<TarGzArchive.Member>> Images) Index(string archivePath, List<TarGzArchive.Member> members)
    {
        var byClass = new SortedDictionary<string, List<TarGzArchive.Member>>(StringComparer.Ordinal);
        foreach (var m in members)
        {
            if (ImagePath(m.Path) is not { } folder) continue;
            if (!byClass.TryGetValue(folder, out var list)) byClass[folder] = list = [];
            list.Add(m);
        }
        if (byClass.Count == 0)
            throw new CorruptFileException(archivePath, $"no images under {RootFolder}/<class>/ (is this the Caltech-101 archive?)");
        foreach (var list in byClass.Values) list.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        var displayNames = byClass.Keys.Select(ImageDataset.DisplayName).ToList();
        var clash = displayNames.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new CorruptFileException(archivePath, $"two class folders are both named '{clash.Key}'");
        return (byClass.Keys.ToList(), byClass.Values.ToList());
    }

    /// <summary>Which of a class's <paramref name="n"/> name-sorted images are test images.</summary>
    private static bool[] TestMask(int n, SplitMix64 rng)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = (int)rng.NextBelow((ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        var mask = new bool[n];
        for (int k = 0; k < TestCount(n); k++) mask[order[k]] = true;
        return mask;
    }

    private static ImageSet Gather(byte[] pixels, List<int> labels, List<int> indices)
    {
        var outPixels = GC.AllocateUninitializedArray<byte>(checked((int)((long)indices.Count * ImageSet.ImageBytes)));
        var outLabels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            pixels.AsSpan(indices[i] * ImageSet.ImageBytes, ImageSet.ImageBytes).CopyTo(outPixels.AsSpan(i * ImageSet.ImageBytes));
            outLabels[i] = labels[indices[i]];
        }
        return new ImageSet(outPixels, outLabels);
    }

    /// <summary>SplitMix64 (Steele, Lea and Flood 2014): a tiny generator whose output is fixed by its seed.</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, bound) by rejection, without modulo bias.</summary>
        public ulong NextBelow(ulong bound)
        {
            ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
            ulong x;
            do x = Next(); while (x >= limit);
            return x % bound;
        }
    }
}
