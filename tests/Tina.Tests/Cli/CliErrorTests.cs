using System.Diagnostics;

namespace Tina.Tests.Cli;

/// <summary>Bad input through the real <c>tina</c> executable: a clear message, exit code 2, no stack trace.</summary>
public class CliErrorTests
{
    private static (int Code, string Output) Tina(params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Tina.Cli.exe" : "Tina.Cli");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--data", TestData.DataDir, "--artifacts", TestData.ArtifactsDir }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "400";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    [Theory]
    [InlineData("Unknown class 'zebra'", "export", "--classes", "apple, zebra", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("Duplicate classes in the list: apple", "export", "--classes", "apple, Apple", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("The class list is empty", "export", "--classes", " , ", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("File not found: /nonexistent/m.onnx", "predict", "--model", "/nonexistent/m.onnx", "--image", "a.png")]
    [InlineData("Unknown method(s): foo", "eval", "--methods", "foo")]
    [InlineData("Unknown p-Model architecture 'vgg'", "export", "--arch", "vgg", "--classes", "apple", "--out", "/tmp/tina-cli-test.onnx")]
    public void UserErrorsAreOneClearLineWithExitCode2(string expected, params string[] args)
    {
        var (code, output) = Tina(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, output.Replace("\n", " ").Replace("  ", " "));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void CorruptGenericModelIsReported()
    {
        var artifacts = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(artifacts, "generic"));
        File.WriteAllText(Path.Combine(artifacts, "generic", "cifar100-cnn5k.json"), "{ not json");
        var exe = Path.Combine(AppContext.BaseDirectory, "Tina.Cli");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--data", TestData.DataDir, "--artifacts", artifacts, "generic", "show" }) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "400";
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(2, p.ExitCode);
        Assert.Contains("Corrupt or unreadable file", output);
        Assert.DoesNotContain("   at ", output);
    }
}
