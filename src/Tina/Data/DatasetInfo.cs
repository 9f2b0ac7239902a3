namespace Tina.Data;

/// <summary>One line of <see cref="DatasetStore.List"/>: whether a dataset is available and how big it is.</summary>
/// <param name="Id">Canonical dataset id.</param>
/// <param name="Title">Human-readable name.</param>
/// <param name="ArchivePath">Where the archive is (or should be put).</param>
/// <param name="Present">The archive exists.</param>
/// <param name="Cached">A decoded cache matching the current archive exists (the next open is fast).</param>
/// <param name="NumClasses">Number of classes: counted in the cache or archive when present, otherwise the official
/// release's number (null if unknown, or if the present archive is unreadable).</param>
/// <param name="TrainCount">Training images, same sources as <paramref name="NumClasses"/>.</param>
/// <param name="TestCount">Test images, same sources as <paramref name="NumClasses"/>.</param>
/// <param name="CountsFromData">True when the counts were read from the local cache or archive, false when they are
/// the official release's expected numbers.</param>
/// <param name="DownloadUrl">Official download URL, or null when there is none.</param>
/// <param name="Problem">Why a present archive could not be read, or null.</param>
public sealed record DatasetInfo(
    string Id,
    string Title,
    string ArchivePath,
    bool Present,
    bool Cached,
    int? NumClasses,
    int? TrainCount,
    int? TestCount,
    bool CountsFromData,
    string? DownloadUrl,
    string? Problem);
