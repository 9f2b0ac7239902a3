namespace Tina.Data;

/// <summary>
/// The datasets Tina knows, by id (<c>cifar100</c>, <c>caltech101</c>, <c>miniimagenet</c>), with their archives,
/// official downloads and expected sizes, and the reader for each.
/// </summary>
public static class DatasetCatalog
{
    /// <summary>CIFAR-100, official binary version (Krizhevsky 2009): 100 classes in 20 superclasses, 50,000 + 10,000 images.</summary>
    public static DatasetDescriptor Cifar100 { get; } = new(
        "cifar100", "CIFAR-100", Data.Cifar100.ArchiveName,
        "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", Data.Cifar100.ArchiveName, null,
        100, 50_000, 10_000, ["cifar-100", "cifar_100", "cifar"],
        "Official train/test split; 20 superclasses of 5 classes each.")
    {
        // The official release names the five trees maple_tree, oak_tree, …; some copies (ours) just maple, oak, ….
        ClassSynonyms = [("maple", "maple tree"), ("oak", "oak tree"), ("palm", "palm tree"), ("pine", "pine tree"), ("willow", "willow tree")],
    };

    /// <summary>
    /// Caltech-101 (Fei-Fei et al. 2004), read from <c>101_ObjectCategories.tar.gz</c>. The official site distributes
    /// <c>caltech-101.zip</c>, which holds that archive; <see cref="DatasetStore.FetchAsync"/> extracts it.
    /// </summary>
    public static DatasetDescriptor Caltech101 { get; } = new(
        "caltech101", "Caltech-101", Data.Caltech101.ArchiveName,
        "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip", "caltech-101.zip",
        "caltech-101/" + Data.Caltech101.ArchiveName,
        101, null, null, ["caltech-101", "caltech_101", "caltech"],
        $"No official split: each class is split 8:2 (seed {Data.Caltech101.SplitSeed}); BACKGROUND_Google is left out. " +
        "The official site offers caltech-101.zip, which contains caltech-101/101_ObjectCategories.tar.gz.")
    {
        // Two folders are named in the plural; the singular is what a user types (and what CIFAR-100 calls them).
        ClassSynonyms = [("Leopards", "leopard"), ("Motorbikes", "motorcycle"), ("Motorbikes", "motorbike")],
    };

    /// <summary>Mini-ImageNet (Vinyals et al. 2016) at 32×32: 100 ImageNet classes, 500 train + 100 val images each.</summary>
    public static DatasetDescriptor MiniImageNet { get; } = new(
        "miniimagenet", "Mini-ImageNet (32×32)", Data.MiniImageNet.ArchiveName,
        null, Data.MiniImageNet.ArchiveName, null,
        100, 50_000, 10_000, ["mini-imagenet", "mini_imagenet", "miniimagenet32", "mini-imagenet-32"],
        "There is no official 32-pixel archive: build mini-imagenet-32.tar.gz with the layout " +
        "mini-imagenet-32/{train,val}/<wnid>/<file>.jpg plus mini-imagenet-32/class_names.tsv " +
        "(wnid<TAB>first WordNet lemma<TAB>all lemmas) and put it in the data folder. Train = train/, test = val/.");

    /// <summary>All datasets, in display order.</summary>
    public static IReadOnlyList<DatasetDescriptor> All { get; } = [Cifar100, Caltech101, MiniImageNet];

    /// <summary>
    /// One vocabulary: the classes of every dataset of <see cref="All"/>, equal names merged (with each dataset's
    /// synonyms: Caltech-101's "Motorbikes" is CIFAR-100's "motorcycle"), each class's images from every dataset that has
    /// it (<see cref="Vocabulary.Merge"/>). Not an archive of its own: <see cref="DatasetStore.Open(string, IProgress{DatasetProgress}?, CancellationToken)"/> opens the others.
    /// </summary>
    public static DatasetDescriptor Merged { get; } = new(
        "merged", "CIFAR-100 + Caltech-101 + Mini-ImageNet, one vocabulary", "", null, "", null, null, null, null, ["all", "vocabulary"],
        "The union of the datasets' classes; equal names are one class whose images come from every dataset that has it.")
    {
        ClassSynonyms = [.. Cifar100.ClassSynonyms, .. Caltech101.ClassSynonyms, .. MiniImageNet.ClassSynonyms],
    };

    /// <summary>Finds a dataset by id or alias, ignoring case, '-', '_' and spaces ("CIFAR-100" → cifar100) and a subset suffix ("cifar100@200").</summary>
    public static bool TryResolve(string idOrAlias, out DatasetDescriptor descriptor)
    {
        var key = Key(idOrAlias);
        foreach (var d in All.Append(Merged))
            if (Key(d.Id) == key || d.Aliases.Any(a => Key(a) == key))
            {
                descriptor = d;
                return true;
            }
        descriptor = null!;
        return false;
    }

    /// <summary>Finds a dataset by id or alias.</summary>
    /// <exception cref="TinaException">No dataset has that id; the message lists the known ids.</exception>
    public static DatasetDescriptor Resolve(string idOrAlias) =>
        TryResolve(idOrAlias ?? "", out var d) ? d
            : throw new TinaException($"Unknown dataset '{idOrAlias}'. Known datasets: {string.Join(", ", All.Select(x => x.Id))}.");

    /// <summary>Reads and decodes the dataset from its archive.</summary>
    internal static ImageDataset Load(DatasetDescriptor d, string archivePath, IProgress<DatasetProgress>? progress, CancellationToken ct)
    {
        switch (d.Id)
        {
            case "cifar100":
                progress?.Report(new DatasetProgress($"Reading {Path.GetFileName(archivePath)}", double.NaN));
                ct.ThrowIfCancellationRequested();
                var dataset = Data.Cifar100.Load(archivePath);
                progress?.Report(new DatasetProgress($"Reading {Path.GetFileName(archivePath)}", 1));
                return dataset;
            case "caltech101":
                return Data.Caltech101.Load(archivePath, progress, ct);
            case "miniimagenet":
                return Data.MiniImageNet.Load(archivePath, progress, ct);
            default:
                throw new InvalidOperationException($"No reader for dataset {d.Id}.");
        }
    }

    /// <summary>Counts classes and images from the archive without decoding images.</summary>
    internal static DatasetCounts Scan(DatasetDescriptor d, string archivePath, CancellationToken ct) => d.Id switch
    {
        "cifar100" => ScanCifar100(archivePath, ct),
        "caltech101" => Data.Caltech101.Scan(archivePath, ct),
        "miniimagenet" => Data.MiniImageNet.Scan(archivePath, ct),
        _ => throw new InvalidOperationException($"No reader for dataset {d.Id}."),
    };

    private static DatasetCounts ScanCifar100(string archivePath, CancellationToken ct)
    {
        const int record = 2 + ImageSet.ImageBytes;
        var members = TarGzArchive.Read(archivePath, p => p.EndsWith("/fine_label_names.txt", StringComparison.Ordinal), null, ct);
        TarGzArchive.Member Find(string name) => members.FirstOrDefault(m => m.Path.EndsWith("/" + name, StringComparison.Ordinal))
            ?? throw new CorruptFileException(archivePath, $"member cifar-100-binary/{name} is missing");
        var train = Find("train.bin");
        var test = Find("test.bin");
        var names = System.Text.Encoding.ASCII.GetString(Find("fine_label_names.txt").Data!)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (train.Size % record != 0 || test.Size % record != 0)
            throw new CorruptFileException(archivePath, $"train.bin/test.bin sizes are not multiples of {record} bytes");
        return new DatasetCounts(names.Length, (int)(train.Size / record), (int)(test.Size / record));
    }

    /// <summary>The id part of a dataset name, ignoring a per-class subset suffix (<c>cifar100@200</c> → <c>cifar100</c>, see <see cref="ImageDataset.PerClassSubset"/>).</summary>
    private static string Key(string s)
    {
        int at = s.IndexOf('@');
        if (at >= 0) s = s[..at];
        return new(s.Where(c => c is not ('-' or '_' or ' ' or '.')).Select(char.ToLowerInvariant).ToArray());
    }
}
