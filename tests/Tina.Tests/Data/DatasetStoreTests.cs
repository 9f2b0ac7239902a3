using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using Tina.Data;
using Tina.MLNet.Errors;

namespace Tina.Tests.Data;

public class DatasetStoreTests
{
    private static readonly string CaltechArchive = SharedDatasets.Archive(Caltech101.ArchiveName);

    /// <summary>A store over <paramref name="root"/> (archives) with its cache in <c>root/artifacts</c>.</summary>
    private static DatasetStore StoreIn(TempFolder root, Uri? mirror = null) => new(root.Path, root["artifacts"], downloadBaseUrl: mirror);

    private static void AssertSame(ImageDataset a, ImageDataset b)
    {
        Assert.Equal(a.ClassNames, b.ClassNames);
        Assert.Equal(a.Train.Labels, b.Train.Labels);
        Assert.Equal(a.Test.Labels, b.Test.Labels);
        Assert.True(a.Train.Pixels.AsSpan().SequenceEqual(b.Train.Pixels));
        Assert.True(a.Test.Pixels.AsSpan().SequenceEqual(b.Test.Pixels));
    }

    [Fact]
    public void SecondOpenLoadsTheCacheWithoutReadingTheArchive()
    {
        using var root = new TempFolder();
        File.Copy(CaltechArchive, root[Caltech101.ArchiveName]);
        var store = StoreIn(root);
        Assert.False(store.IsCached("caltech101"));
        var first = store.Open("caltech101", out bool firstFromCache);
        Assert.False(firstFromCache);
        Assert.True(File.Exists(store.CachePath("caltech101")));
        Assert.True(store.IsCached("caltech101"));

        // Overwrite the archive with zeros, keeping the length and last-write time the cache is stamped with: a second
        // open that read the archive would now fail (CorruptFileException); one that loads the cache does not notice.
        var archive = root[Caltech101.ArchiveName];
        var info = new FileInfo(archive);
        var (length, written) = (info.Length, info.LastWriteTimeUtc);
        File.WriteAllBytes(archive, new byte[length]);
        File.SetLastWriteTimeUtc(archive, written);
        Assert.True(store.IsCached("caltech101"));

        var stages = new List<string>();
        var second = store.Open("caltech101", out bool secondFromCache, new SyncProgress(p => stages.Add(p.Stage)));
        Assert.True(secondFromCache);
        Assert.Equal(new[] { "Loading cache", "Loading cache" }, stages);
        AssertSame(first, second);
    }

    [Fact]
    public void SyntheticArchiveDecodesWithTheRightColoursLabelsAndSplit()
    {
        using var root = new TempFolder();
        TestArchives.WriteCaltech(root[Caltech101.ArchiveName], perClass: 10);
        var ds = StoreIn(root).Open("caltech-101");
        Assert.Equal(new[] { "Red things", "blue things", "green things" }, ds.ClassNames); // ordinal order, case kept, no BACKGROUND_Google
        Assert.Equal(24, ds.Train.Count);
        Assert.Equal(6, ds.Test.Count);
        foreach (var set in new[] { ds.Train, ds.Test })
            for (int i = 0; i < set.Count; i++)
            {
                var colour = TestArchives.CaltechClasses.Single(c => ImageDataset.DisplayName(c.Folder) == ds.ClassNames[set.Labels[i]]).Colour;
                var img = set.Image(i);
                Assert.InRange(img[0] - colour.Red, -6, 6);
                Assert.InRange(img[1024 + 500] - colour.Green, -6, 6);
                Assert.InRange(img[2048 + 1023] - colour.Blue, -6, 6);
            }
    }

    [Fact]
    public void ReplacedArchiveOrDamagedCacheIsRebuiltNotAnError()
    {
        using var root = new TempFolder();
        TestArchives.WriteCaltech(root[Caltech101.ArchiveName]);
        var store = StoreIn(root);
        var original = store.Open("caltech101");
        var archive = store.ArchivePath("caltech101");
        var cache = store.CachePath("caltech101");
        store.Open("caltech101", out bool fromCache);
        Assert.True(fromCache);

        File.SetLastWriteTimeUtc(archive, DateTime.UtcNow.AddMinutes(-5)); // "a replaced archive"
        Assert.False(store.IsCached("caltech101"));
        store.Open("caltech101", out fromCache);
        Assert.False(fromCache);
        store.Open("caltech101", out fromCache);
        Assert.True(fromCache);

        using (var fs = new FileStream(cache, FileMode.Open)) fs.SetLength(fs.Length / 2); // truncated cache
        Assert.False(store.IsCached("caltech101"));
        var stages = new List<string>();
        var rebuilt = store.Open("caltech101", out fromCache, new SyncProgress(p => stages.Add(p.Stage)));
        Assert.False(fromCache);
        Assert.Contains(stages, s => s.StartsWith("Cache not usable", StringComparison.Ordinal));
        AssertSame(original, rebuilt);

        var bytes = File.ReadAllBytes(cache); // same length, one flipped pixel byte
        bytes[bytes.Length - 100] ^= 0x55;
        File.WriteAllBytes(cache, bytes);
        Assert.True(store.IsCached("caltech101")); // the header still matches…
        store.Open("caltech101", out fromCache);  // …but the checksum does not
        Assert.False(fromCache);
        store.Open("caltech101", out fromCache);
        Assert.True(fromCache);

        File.WriteAllText(cache, "garbage");
        AssertSame(original, store.Open("caltech101", out fromCache));
        Assert.False(fromCache);
    }

    [Fact]
    public void ImageThatDoesNotDecodeIsCorruptAndNamesTheMember()
    {
        using var root = new TempFolder();
        var path = root[Caltech101.ArchiveName];
        using (var fs = File.Create(path))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new System.Formats.Tar.TarWriter(gz))
        {
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "101_ObjectCategories/cat/image_0001.jpg")
                { DataStream = new MemoryStream(TestArchives.Jpeg(SkiaSharp.SKColors.Red, 10, 10)) });
            tar.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "101_ObjectCategories/cat/image_0002.jpg")
                { DataStream = new MemoryStream("not a jpeg"u8.ToArray()) });
        }
        var e = Assert.Throws<CorruptFileException>(() => StoreIn(root).Open("caltech101"));
        Assert.Contains("101_ObjectCategories/cat/image_0002.jpg", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData("caltech101", "101_ObjectCategories.tar.gz", 0.5)]
    [InlineData("miniimagenet", "mini-imagenet-32.tar.gz", 0.2)]
    [InlineData("caltech101", "101_ObjectCategories.tar.gz", 0.9999)]
    public void TruncatedArchiveIsCorrupt(string id, string file, double keep)
    {
        using var root = new TempFolder();
        var source = SharedDatasets.Archive(file);
        var length = (long)(new FileInfo(source).Length * keep);
        using (var src = File.OpenRead(source))
        using (var dst = File.Create(root[file]))
        {
            var buf = new byte[length];
            src.ReadExactly(buf);
            dst.Write(buf);
        }
        var store = StoreIn(root);
        var e = Assert.Throws<CorruptFileException>(() => store.Open(id));
        Assert.Contains(file, e.Message);
        Assert.False(File.Exists(store.CachePath(id)));
    }

    [Fact]
    public void TruncatedCifarArchiveIsCorrupt()
    {
        using var root = new TempFolder();
        using (var src = File.OpenRead(SharedDatasets.Archive(Cifar100.ArchiveName)))
        using (var dst = File.Create(root[Cifar100.ArchiveName]))
        {
            var buf = new byte[20_000_000];
            src.ReadExactly(buf);
            dst.Write(buf);
        }
        var store = StoreIn(root);
        Assert.Throws<CorruptFileException>(() => store.Open("cifar100"));
    }

    [Theory]
    [InlineData("cifar100", "cifar-100-binary.tar.gz")]
    [InlineData("caltech-101", "101_ObjectCategories.tar.gz")]
    [InlineData("Mini-ImageNet", "mini-imagenet-32.tar.gz")]
    public void MissingArchiveNamesTheFileAndTheFolder(string id, string file)
    {
        using var root = new TempFolder();
        var store = StoreIn(root);
        var e = Assert.Throws<TinaFileNotFoundException>(() => store.Open(id));
        Assert.Equal(root[file], e.FilePath);
        Assert.Contains(file, e.Message);
        Assert.Contains(root.Path, e.Message);
        if (id != "Mini-ImageNet") Assert.Contains($"tina data fetch {DatasetCatalog.Resolve(id).Id}", e.Message);
    }

    [Fact]
    public async Task FetchWhileOfflineNamesFileUrlAndDestination()
    {
        using var root = new TempFolder();
        var store = StoreIn(root, new Uri("http://127.0.0.1:9/"));
        var e = await Assert.ThrowsAsync<TinaException>(() => store.FetchAsync("cifar100"));
        Assert.Contains("cifar-100-binary.tar.gz", e.Message);
        Assert.Contains("http://127.0.0.1:9/cifar-100-binary.tar.gz", e.Message);
        Assert.Contains(root["cifar-100-binary.tar.gz"], e.Message);
        Assert.Contains("refused", e.Message);
        Assert.False(File.Exists(root["cifar-100-binary.tar.gz"]));
    }

    [Fact]
    public async Task FetchOfMiniImageNetExplainsThatTheFileMustBeProvided()
    {
        using var root = new TempFolder();
        var store = StoreIn(root);
        var e = await Assert.ThrowsAsync<TinaException>(() => store.FetchAsync("mini-imagenet"));
        Assert.Contains("no official download", e.Message);
        Assert.Contains(root["mini-imagenet-32.tar.gz"], e.Message);
        Assert.Contains("class_names.tsv", e.Message);
    }

    [Fact]
    public async Task FetchDownloadsTheCaltechZipResumesAndExtractsTheArchive()
    {
        // The official Caltech-101 download is caltech-101.zip holding caltech-101/101_ObjectCategories.tar.gz.
        var zipBytes = new MemoryStream();
        using (var zip = new ZipArchive(zipBytes, ZipArchiveMode.Create, leaveOpen: true))
        {
            zip.CreateEntry("caltech-101/Annotations.tar", CompressionLevel.NoCompression).Open().Dispose();
            using var s = zip.CreateEntry("caltech-101/" + Caltech101.ArchiveName, CompressionLevel.NoCompression).Open();
            using var src = File.OpenRead(CaltechArchive);
            src.CopyTo(s);
        }
        var served = zipBytes.ToArray();
        using var server = new RangeServer(served);
        using var root = new TempFolder();
        File.WriteAllBytes(root["caltech-101.zip.part"], served.AsSpan(0, 3_000_000).ToArray()); // an interrupted download
        var store = StoreIn(root, server.BaseUrl);
        Assert.Equal(new Uri(server.BaseUrl, "caltech-101.zip"), store.DownloadUrl("caltech101"));

        var path = await store.FetchAsync("caltech101");
        Assert.Equal(root[Caltech101.ArchiveName], path);
        Assert.Equal("bytes=3000000-", server.LastRange);
        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(File.ReadAllBytes(CaltechArchive)));
        Assert.Equal(new[] { Caltech101.ArchiveName }, Directory.GetFiles(root.Path).Select(Path.GetFileName));
        Assert.True(store.IsCached("caltech101")); // verified by decoding, cache written
        Assert.Equal(97, store.Open("caltech101").NumClasses);

        int requests = server.Requests;
        Assert.Equal(path, await store.FetchAsync("caltech101")); // present and valid: nothing downloaded
        Assert.Equal(requests, server.Requests);
    }

    [Fact]
    public void ListReportsPresenceCacheAndCounts()
    {
        using var root = new TempFolder();
        TestArchives.WriteCaltech(root[Caltech101.ArchiveName], perClass: 10);
        var store = StoreIn(root);
        var before = store.List();
        Assert.Equal(new[] { "cifar100", "caltech101", "miniimagenet" }, before.Select(i => i.Id));
        var cifar = before[0];
        Assert.False(cifar.Present);
        Assert.False(cifar.CountsFromData);
        Assert.Equal((100, 50_000, 10_000), (cifar.NumClasses, cifar.TrainCount, cifar.TestCount));
        Assert.Equal("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", cifar.DownloadUrl);
        Assert.Equal(root[Cifar100.ArchiveName], cifar.ArchivePath);
        Assert.Null(before[2].DownloadUrl);

        var caltech = before[1];
        Assert.True(caltech.Present);
        Assert.False(caltech.Cached);
        Assert.True(caltech.CountsFromData); // scanned from the archive's file list
        Assert.Equal((3, 24, 6), (caltech.NumClasses, caltech.TrainCount, caltech.TestCount));
        Assert.Null(caltech.Problem);

        store.Open("caltech101");
        var after = store.List()[1];
        Assert.Equal(caltech with { Cached = true }, after);

        File.WriteAllBytes(root[MiniImageNet.ArchiveName], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]); // broken
        var broken = store.List()[2];
        Assert.True(broken.Present);
        Assert.Null(broken.NumClasses);
        Assert.Contains(MiniImageNet.ArchiveName, broken.Problem);
    }

    [Fact]
    public void ListOfTheSharedDataShowsAllThreeWithRealCounts()
    {
        var all = SharedDatasets.Store.List();
        Assert.All(all, i => Assert.True(i.Present && i.CountsFromData && i.Problem is null, i.ToString()));
        Assert.Equal((100, 50_000, 10_000), (all[0].NumClasses, all[0].TrainCount, all[0].TestCount));
        Assert.Equal((97, 7_738), (all[1].NumClasses, all[1].TrainCount + all[1].TestCount));
        Assert.Equal((100, 50_000, 10_000), (all[2].NumClasses, all[2].TrainCount, all[2].TestCount));
    }

    [Theory]
    [InlineData("cifar100", "cifar100")]
    [InlineData("CIFAR-100", "cifar100")]
    [InlineData("cifar_100", "cifar100")]
    [InlineData("Caltech-101", "caltech101")]
    [InlineData("caltech", "caltech101")]
    [InlineData("mini-imagenet", "miniimagenet")]
    [InlineData("Mini ImageNet", "miniimagenet")]
    public void IdsAndAliasesResolve(string given, string id) => Assert.Equal(id, DatasetCatalog.Resolve(given).Id);

    [Fact]
    public void UnknownIdListsTheKnownOnes()
    {
        var e = Assert.Throws<TinaException>(() => DatasetCatalog.Resolve("imagenet"));
        Assert.Contains("cifar100, caltech101, miniimagenet", e.Message);
    }

    [Fact]
    public void DataRootDefaultsToTheUsersTinaFolderNotAnEnvironmentVariable()
    {
        using var root = new TempFolder();
        Assert.Equal(root.Path, new DatasetStore(root.Path, root.Path).DataRoot);
        Assert.Equal(Path.Combine(root.Path, "artifacts", "cache", "datasets"), StoreIn(root).CacheDir);
        Assert.Equal(Path.Combine(root.Path, "artifacts", "cache", "datasets", "caltech101.tinads"), StoreIn(root).CachePath("Caltech-101"));
        // The library reads no environment variable (TINA_DATA is the CLI's): the default is under the user's folder.
        Assert.Equal(Path.Combine(Tina.MLNet.TinaPaths.DefaultDirectory, "data"), new DatasetStore(null, root.Path).DataRoot);
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress(Action<DatasetProgress> report) : IProgress<DatasetProgress>
    {
        public void Report(DatasetProgress value) => report(value);
    }

    /// <summary>A tiny HTTP server on 127.0.0.1 that serves one file under any path and honours "Range: bytes=N-".</summary>
    private sealed class RangeServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _content;
        private readonly Task _loop;

        public RangeServer(byte[] content)
        {
            _content = content;
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            BaseUrl = new Uri($"http://127.0.0.1:{port}/files/");
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _loop = Task.Run(Serve);
        }

        public Uri BaseUrl { get; }
        public string? LastRange { get; private set; }
        public int Requests { get; private set; }

        private async Task Serve()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception) { return; }
                Requests++;
                var range = ctx.Request.Headers["Range"];
                LastRange = range;
                int start = 0;
                if (range is not null && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                {
                    start = int.Parse(range[6..^1]);
                    ctx.Response.StatusCode = 206;
                    ctx.Response.AddHeader("Content-Range", $"bytes {start}-{_content.Length - 1}/{_content.Length}");
                }
                ctx.Response.ContentLength64 = _content.Length - start;
                try { await ctx.Response.OutputStream.WriteAsync(_content.AsMemory(start)); }
                catch (Exception) { }
                ctx.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            try { _loop.Wait(5000); } catch (AggregateException) { }
        }
    }
}
