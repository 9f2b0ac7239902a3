namespace Tina.Data;

/// <summary>What the store knows about a dataset before opening it: id, archive, where to download it, expected size.</summary>
/// <param name="Id">Canonical id: <c>cifar100</c>, <c>caltech101</c> or <c>miniimagenet</c>.</param>
/// <param name="Title">Human-readable name, e.g. "CIFAR-100".</param>
/// <param name="ArchiveName">File the store reads from the data root, e.g. <c>cifar-100-binary.tar.gz</c>.</param>
/// <param name="DownloadUrl">The official download, or null when there is none (Mini-ImageNet at 32 px).</param>
/// <param name="DownloadFileName">Name of the downloaded file (the last segment of <paramref name="DownloadUrl"/>);
/// also the name looked up under a mirror base URL.</param>
/// <param name="ZipMember">When the download is a zip that contains the archive (Caltech-101's
/// <c>caltech-101.zip</c>), the path of the archive inside the zip; otherwise null.</param>
/// <param name="ExpectedClasses">Classes of the official release, if known.</param>
/// <param name="ExpectedTrain">Training images of the official release, if fixed.</param>
/// <param name="ExpectedTest">Test images of the official release, if fixed.</param>
/// <param name="Aliases">Other accepted spellings of the id (ids are also matched ignoring case, '-', '_' and spaces).</param>
/// <param name="Notes">How the splits are made and anything a user should know when getting the archive.</param>
public sealed record DatasetDescriptor(
    string Id,
    string Title,
    string ArchiveName,
    string? DownloadUrl,
    string DownloadFileName,
    string? ZipMember,
    int? ExpectedClasses,
    int? ExpectedTrain,
    int? ExpectedTest,
    IReadOnlyList<string> Aliases,
    string Notes)
{
    /// <summary>
    /// Pairs of names that mean the same class of this dataset, for copies whose archives spell a class differently
    /// (CIFAR-100's official <c>maple_tree</c> and the short <c>maple</c>). Whichever of the two the archive has is the
    /// class's name; the other is accepted by <see cref="ImageDataset.ClassIndex"/> as well.
    /// </summary>
    public IReadOnlyList<(string A, string B)> ClassSynonyms { get; init; } = [];
}
