using System.Diagnostics;

namespace Tina.Tests;

/// <summary>Runs the real <c>tina</c> executable (copied next to the tests) and captures its exit code and output.</summary>
internal static class TinaProcess
{
    /// <summary>Runs <c>tina --data DATA --artifacts <paramref name="artifacts"/> ARGS…</c>; output is stdout + stderr.</summary>
    public static (int Code, string Output) Run(string artifacts, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "Tina.Cli.exe" : "Tina.Cli");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--data", TestData.DataDir, "--artifacts", artifacts }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "400"; // keep Spectre.Console from wrapping messages the tests look for
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}
