namespace Tina.Tests;

/// <summary>Locates the shared datasets and a per-repo cache that tests reuse between runs.</summary>
internal static class TestData
{
    /// <summary>
    /// The folder holding the dataset archives: <c>TINA_DATA</c> if set, otherwise the first <c>shared/data</c> (or
    /// <c>../shared/data</c>) found walking up from the test binaries.
    /// </summary>
    public static string DataDir { get; } = FindDataDir();

    /// <summary>The repository root (the folder with Tina.MLNet.sln).</summary>
    public static string RepoRoot { get; } = typeof(TestData).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>Artifacts folder for tests (decoded dataset caches, trained fixtures), kept between runs: artifacts/test.</summary>
    public static string ArtifactsDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("TINA_TEST_ARTIFACTS") ?? Path.Combine(RepoRoot, "artifacts", "test");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>A fresh empty temp folder, inside this test run's folder (see <see cref="RunTempRoot"/>).</summary>
    public static string TempDir()
    {
        var d = Path.Combine(RunTempRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>
    /// tina-tests/run-PID under the system temp folder. It is removed on process exit where the test host lets exit
    /// handlers run, and otherwise, like the folder of a killed or crashed run, when the next run starts: at most one
    /// finished run's files stay on disk instead of every run's.
    /// </summary>
    private static readonly Lazy<string> RunTempRoot = new(() =>
    {
        var parent = Path.Combine(Path.GetTempPath(), "tina-tests");
        Directory.CreateDirectory(parent);
        foreach (var stale in Directory.GetDirectories(parent))
        {
            var name = Path.GetFileName(stale);
            bool alive = name.StartsWith("run-", StringComparison.Ordinal) && int.TryParse(name[4..], out var pid) && IsRunning(pid);
            if (!alive) TryDelete(stale);
        }
        var root = Path.Combine(parent, $"run-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    });

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static string FindDataDir()
    {
        var env = Environment.GetEnvironmentVariable("TINA_DATA");
        if (!string.IsNullOrEmpty(env)) return env;
        var root = typeof(TestData).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        for (var d = new DirectoryInfo(root); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "data");
            if (File.Exists(Path.Combine(candidate, "cifar-100-binary.tar.gz"))) return candidate;
        }
        throw new InvalidOperationException("Dataset archives not found: set TINA_DATA to the folder holding cifar-100-binary.tar.gz.");
    }
}
