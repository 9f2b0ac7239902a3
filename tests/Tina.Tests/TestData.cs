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

    /// <summary>A fresh empty temp folder.</summary>
    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "tina-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
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
