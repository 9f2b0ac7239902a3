using System.IO.Compression;
using System.Net.Sockets;

namespace Tina.Data;

/// <summary>
/// Finds, downloads, decodes and caches the datasets of <see cref="DatasetCatalog"/>.
/// </summary>
/// <remarks>
/// <para>Archives live in the data root (constructor argument, else <see cref="DefaultDataRoot"/>) under their
/// official file names. The first <see cref="Open(string, IProgress{DatasetProgress}?, CancellationToken)"/>
/// of a dataset decodes its archive and writes <c>&lt;artifacts&gt;/cache/datasets/&lt;id&gt;.tinads</c> (see
/// <see cref="CachePath"/>); later opens load that file, as long as the archive keeps its length and last-write time.
/// A damaged or stale cache is rebuilt from the archive; a damaged archive is a <see cref="CorruptFileException"/>.</para>
/// <para>The store keeps no mutable state and may be used from several threads; cache files are written atomically,
/// so concurrent processes see either no cache or a complete one.</para>
/// </remarks>
public sealed class DatasetStore
{
    private const string CacheExtension = ".tinads";
    private readonly HttpClient? _http;

    /// <summary>Creates a store.</summary>
    /// <param name="dataRoot">Folder with the dataset archives; null means <see cref="DefaultDataRoot"/>.</param>
    /// <param name="artifactsDir">Artifacts folder; decoded caches go to <c>&lt;artifactsDir&gt;/cache/datasets/</c>.</param>
    /// <param name="httpClient">Client for <see cref="FetchAsync"/>; null uses a shared client with a 30 s connect timeout.</param>
    /// <param name="downloadBaseUrl">A mirror to download from instead of the official sites: the file is fetched from
    /// <c>downloadBaseUrl + DownloadFileName</c> (e.g. <c>http://mirror/datasets/caltech-101.zip</c>). With a mirror,
    /// Mini-ImageNet can be fetched too. Null uses the official URLs.</param>
    public DatasetStore(string? dataRoot, string artifactsDir, HttpClient? httpClient = null, Uri? downloadBaseUrl = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(artifactsDir);
        DataRoot = Path.GetFullPath(string.IsNullOrWhiteSpace(dataRoot) ? DefaultDataRoot() : dataRoot);
        CacheDir = Path.Combine(Path.GetFullPath(artifactsDir), "cache", "datasets");
        _http = httpClient;
        if (downloadBaseUrl is not null && !downloadBaseUrl.AbsoluteUri.EndsWith('/'))
            downloadBaseUrl = new Uri(downloadBaseUrl.AbsoluteUri + "/");
        DownloadBaseUrl = downloadBaseUrl;
    }

    /// <summary>
    /// The data root when none is given: <c>data</c> under <see cref="Tina.MLNet.TinaPaths.DefaultDirectory"/> (the
    /// library reads no environment variable; the CLI's <c>--data</c> defaults to <c>TINA_DATA</c>, else <c>./data</c>).
    /// </summary>
    public static string DefaultDataRoot() => Path.Combine(Tina.MLNet.TinaPaths.DefaultDirectory, "data");

    /// <summary>Absolute folder holding the archives.</summary>
    public string DataRoot { get; }

    /// <summary>Absolute folder holding the decoded caches.</summary>
    public string CacheDir { get; }

    /// <summary>Mirror base URL given to the constructor (with a trailing '/'), or null for the official sites.</summary>
    public Uri? DownloadBaseUrl { get; }

    /// <summary>Where the archive of dataset <paramref name="id"/> is, or must be put.</summary>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    public string ArchivePath(string id) => Path.Combine(DataRoot, DatasetCatalog.Resolve(id).ArchiveName);

    /// <summary>Where the decoded cache of dataset <paramref name="id"/> is written.</summary>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    public string CachePath(string id) => Path.Combine(CacheDir, DatasetCatalog.Resolve(id).Id + CacheExtension);

    /// <summary>The URL <see cref="FetchAsync"/> downloads dataset <paramref name="id"/> from, or null when there is none.</summary>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    public Uri? DownloadUrl(string id)
    {
        var d = DatasetCatalog.Resolve(id);
        if (DownloadBaseUrl is not null) return new Uri(DownloadBaseUrl, d.DownloadFileName);
        return d.DownloadUrl is null ? null : new Uri(d.DownloadUrl);
    }

    /// <summary>True when the archive is present and a cache matching it exists (the next open will be fast).</summary>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    public bool IsCached(string id)
    {
        var d = DatasetCatalog.Resolve(id);
        var archive = Path.Combine(DataRoot, d.ArchiveName);
        return File.Exists(archive) && DatasetCache.TryReadCounts(CachePath(d.Id), d.Id, DatasetCache.ArchiveStamp.Of(archive)) is not null;
    }

    /// <summary>Opens a dataset: loads its cache, or decodes the archive and writes the cache.</summary>
    /// <param name="id">Dataset id or alias (<c>cifar100</c>, <c>caltech-101</c>, <c>mini-imagenet</c>, …).</param>
    /// <param name="progress">Optional progress reports (stage and fraction).</param>
    /// <param name="cancellationToken">Cancels decoding.</param>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    /// <exception cref="TinaFileNotFoundException">The archive is not in the data root; the message names the file, the
    /// folder and the <c>tina data fetch</c> command.</exception>
    /// <exception cref="CorruptFileException">The archive is damaged.</exception>
    public ImageDataset Open(string id, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Open(id, out _, progress, cancellationToken);

    /// <summary>Opens a dataset and tells whether it came from the cache.</summary>
    /// <param name="id">Dataset id or alias.</param>
    /// <param name="fromCache">True when the cache was loaded, false when the archive was decoded.</param>
    /// <param name="progress">Optional progress reports (stage and fraction).</param>
    /// <param name="cancellationToken">Cancels decoding.</param>
    /// <exception cref="TinaException">Unknown dataset id.</exception>
    /// <exception cref="TinaFileNotFoundException">The archive is not in the data root.</exception>
    /// <exception cref="CorruptFileException">The archive is damaged.</exception>
    public ImageDataset Open(string id, out bool fromCache, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var d = DatasetCatalog.Resolve(id);
        if (d == DatasetCatalog.Merged)
        {
            // One vocabulary: every dataset opened (each from its own cache), then merged by name.
            bool allCached = true;
            var parts = DatasetCatalog.All.Select(x =>
            {
                var part = Open(x.Id, out var cached, progress, cancellationToken);
                allCached &= cached;
                return part;
            }).ToList();
            fromCache = allCached;
            return Vocabulary.Merge(parts, DatasetCatalog.Merged.Id);
        }
        var archive = Path.Combine(DataRoot, d.ArchiveName);
        if (!File.Exists(archive)) throw new TinaFileNotFoundException(archive, MissingHint(d));
        var stamp = DatasetCache.ArchiveStamp.Of(archive);
        var cachePath = CachePath(d.Id);

        progress?.Report(new DatasetProgress("Loading cache", 0));
        var cached = DatasetCache.TryRead(cachePath, d.Id, stamp, out var problem);
        if (cached is not null)
        {
            progress?.Report(new DatasetProgress("Loading cache", 1));
            fromCache = true;
            return cached;
        }
        if (File.Exists(cachePath))
            progress?.Report(new DatasetProgress($"Cache not usable ({problem}); rebuilding", double.NaN));

        var dataset = DatasetCatalog.Load(d, archive, progress, cancellationToken);
        WriteCache(d, dataset, stamp, progress);
        fromCache = false;
        return dataset;
    }

    /// <summary>
    /// Lists every known dataset: whether its archive is present and cached, and its class and image counts (from the
    /// cache header, else from the archive's file list without decoding, else the official release's numbers).
    /// </summary>
    public IReadOnlyList<DatasetInfo> List()
    {
        var list = new List<DatasetInfo>();
        foreach (var d in DatasetCatalog.All)
        {
            var archive = Path.Combine(DataRoot, d.ArchiveName);
            string? url = DownloadUrl(d.Id)?.AbsoluteUri;
            if (!File.Exists(archive))
            {
                list.Add(new DatasetInfo(d.Id, d.Title, archive, false, false, d.ExpectedClasses, d.ExpectedTrain, d.ExpectedTest, false, url, null));
                continue;
            }
            var counts = DatasetCache.TryReadCounts(CachePath(d.Id), d.Id, DatasetCache.ArchiveStamp.Of(archive));
            bool cached = counts is not null;
            string? problem = null;
            if (counts is null)
            {
                try
                {
                    counts = DatasetCatalog.Scan(d, archive, CancellationToken.None);
                }
                catch (Exception e) when (e is ITinaError)
                {
                    problem = e.Message;
                }
            }
            list.Add(new DatasetInfo(d.Id, d.Title, archive, true, cached, counts?.Classes, counts?.Train, counts?.Test,
                counts is not null, url, problem));
        }
        return list;
    }

    /// <summary>
    /// Downloads the official archive of dataset <paramref name="id"/> into the data root (into a <c>.part</c> file that
    /// is resumed on the next try, then renamed), checks that it decodes, and writes its cache. If the archive is
    /// already present and readable, nothing is downloaded. For Caltech-101 the official <c>caltech-101.zip</c> is
    /// downloaded and <c>101_ObjectCategories.tar.gz</c> is extracted from it.
    /// </summary>
    /// <returns>The path of the archive.</returns>
    /// <exception cref="TinaException">Unknown id; no download exists (Mini-ImageNet without a mirror; the message says
    /// how to provide the file); or the network failed (offline, refused, timeout, HTTP error) — the message names the
    /// file, the URL and where to put a manually downloaded copy.</exception>
    /// <exception cref="CorruptFileException">The downloaded file is not a valid archive of the dataset.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<string> FetchAsync(string id, IProgress<DatasetProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var d = DatasetCatalog.Resolve(id);
        var archive = Path.Combine(DataRoot, d.ArchiveName);
        if (File.Exists(archive))
        {
            try
            {
                Open(d.Id, progress, cancellationToken);
                return archive;
            }
            catch (CorruptFileException e)
            {
                progress?.Report(new DatasetProgress($"The existing {d.ArchiveName} is damaged ({e.Message}); downloading it again", double.NaN));
            }
        }

        var url = DownloadUrl(d.Id) ?? throw new TinaException(
            $"{d.Title} has no official download of {d.ArchiveName}. {d.Notes} Put the file at {archive} " +
            "(or point the data folder — tina: --data or TINA_DATA — at the folder that holds it).");
        try
        {
            Directory.CreateDirectory(DataRoot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TinaException($"Cannot create the data folder {DataRoot}: {e.Message}", e);
        }

        var part = Path.Combine(DataRoot, d.DownloadFileName + ".part");
        try
        {
            await ArchiveDownloader.DownloadAsync(_http ?? ArchiveDownloader.DefaultClient, url, part, progress,
                $"Downloading {d.DownloadFileName}", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or IOException and not ITinaError or UnauthorizedAccessException
                                  || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TinaException(
                $"Could not download {d.DownloadFileName} from {url}: {Reason(e)}. If this machine is offline, download it on " +
                $"another machine{(d.ZipMember is null ? "" : $" and take {d.ArchiveName} out of it")} and put {d.ArchiveName} at {archive} " +
                $"(or point the data folder — tina: --data or TINA_DATA — at the folder that holds it). A partial download is kept in {part} and resumed on the next try.", e);
        }

        var candidate = part;
        if (d.ZipMember is not null)
        {
            candidate = Path.Combine(DataRoot, d.ArchiveName + ".part");
            ExtractFromZip(part, d, candidate);
            File.Delete(part);
        }

        ImageDataset dataset;
        try
        {
            dataset = DatasetCatalog.Load(d, candidate, progress, cancellationToken);
        }
        catch (CorruptFileException e)
        {
            File.Delete(candidate);
            throw new CorruptFileException(archive, $"the file downloaded from {url} is not a valid {d.Title} archive ({e.Message}); it was deleted, try again", e);
        }
        File.Move(candidate, archive, overwrite: true);
        WriteCache(d, dataset, DatasetCache.ArchiveStamp.Of(archive), progress);
        return archive;
    }

    private void WriteCache(DatasetDescriptor d, ImageDataset dataset, DatasetCache.ArchiveStamp stamp, IProgress<DatasetProgress>? progress)
    {
        progress?.Report(new DatasetProgress("Writing cache", 0));
        try
        {
            DatasetCache.Write(CachePath(d.Id), dataset, stamp);
            progress?.Report(new DatasetProgress("Writing cache", 1));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The dataset is loaded; a cache that cannot be written (read-only or full disk) only costs time next run.
            progress?.Report(new DatasetProgress($"Cache not written to {CachePath(d.Id)} ({e.Message})", 1));
        }
    }

    private static void ExtractFromZip(string zipPath, DatasetDescriptor d, string destination)
    {
        try
        {
            using var zip = ZipFile.OpenRead(zipPath);
            var entry = zip.Entries.FirstOrDefault(e => e.FullName == d.ZipMember)
                ?? zip.Entries.FirstOrDefault(e => !e.FullName.StartsWith("__MACOSX/", StringComparison.Ordinal)
                                                   && e.FullName.EndsWith("/" + d.ArchiveName, StringComparison.Ordinal) || e.FullName == d.ArchiveName)
                ?? throw new CorruptFileException(zipPath, $"{d.ZipMember} is not in the zip");
            AtomicFile.Write(destination, s =>
            {
                using var src = entry.Open();
                src.CopyTo(s);
            });
        }
        catch (Exception e) when (e is InvalidDataException or IOException && e is not FileNotFoundException and not ITinaError)
        {
            File.Delete(zipPath);
            throw new CorruptFileException(zipPath, $"not a readable zip ({e.Message}); it was deleted, try again", e);
        }
    }

    private string MissingHint(DatasetDescriptor d)
    {
        var url = DownloadUrl(d.Id);
        if (url is null)
            return $"Put {d.ArchiveName} in {DataRoot} (or point the data folder — tina: --data or TINA_DATA — at the folder that holds it). {d.Notes}";
        var from = d.ZipMember is null ? $"from {url}" : $"(it is inside {d.DownloadFileName} from {url})";
        return $"Run 'tina data fetch {d.Id}' to download it, or put {d.ArchiveName} {from} in {DataRoot} " +
               "(or point the data folder — tina: --data or TINA_DATA — at the folder that holds it).";
    }

    private static string Reason(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is SocketException s)
                return s.SocketErrorCode switch
                {
                    SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"the host name could not be resolved ({s.Message}); are you offline?",
                    SocketError.ConnectionRefused => $"the connection was refused ({s.Message})",
                    SocketError.TimedOut => $"the connection timed out ({s.Message})",
                    SocketError.NetworkUnreachable or SocketError.HostUnreachable => $"the network is unreachable ({s.Message}); are you offline?",
                    _ => s.Message,
                };
        return e is TaskCanceledException ? "the request timed out" : e.Message;
    }
}
