using System.Diagnostics;

namespace Tina.Tests;

/// <summary>Runs the real <c>tina</c> executable (copied next to the tests) and captures its exit code and output.</summary>
internal static class TinaProcess
{
    /// <summary>Runs <c>tina --data DATA --artifacts <paramref name="artifacts"/> ARGS…</c>; output is stdout + stderr.</summary>
    public static (int Code, string Output) Run(string artifacts, params string[] args) =>
        Exec(OperatingSystem.IsWindows() ? "Tina.Cli.exe" : "Tina.Cli", new[] { "--data", TestData.DataDir, "--artifacts", artifacts }.Concat(args));

    /// <summary>As <see cref="Run"/>, with <paramref name="threads"/> intra-op threads (TINA_THREADS) instead of this process's count.</summary>
    public static (int Code, string Output) RunWithThreads(int threads, string artifacts, params string[] args)
    {
        var psi = StartInfo(OperatingSystem.IsWindows() ? "Tina.Cli.exe" : "Tina.Cli", new[] { "--data", TestData.DataDir, "--artifacts", artifacts }.Concat(args));
        psi.Environment["TINA_THREADS"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Wait(psi);
    }

    /// <summary>
    /// Starts <c>tina --data DATA --artifacts <paramref name="artifacts"/> ARGS…</c> without waiting (its output is
    /// read and dropped), so a test can kill it part-way.
    /// </summary>
    public static Process Start(string artifacts, params string[] args)
    {
        return StartDrained(StartInfo(OperatingSystem.IsWindows() ? "Tina.Cli.exe" : "Tina.Cli", new[] { "--data", TestData.DataDir, "--artifacts", artifacts }.Concat(args)));
    }

    /// <summary>Starts <paramref name="psi"/> (output redirected) and reads and drops its output, so it never blocks on a full pipe.</summary>
    public static Process StartDrained(ProcessStartInfo psi)
    {
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Runs <c>dotnet ARGS…</c> in <paramref name="workDir"/> (builds, packs, apps); output is stdout + stderr.</summary>
    public static (int Code, string Output) Dotnet(string workDir, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    /// <summary>Runs the executable at <paramref name="relativePath"/> (from the tests' folder); output is stdout + stderr.</summary>
    public static (int Code, string Output) Exec(string relativePath, IEnumerable<string> args) => Wait(StartInfo(relativePath, args));

    /// <summary>Runs <paramref name="psi"/> (output redirected) to its end; output is stdout + stderr.</summary>
    private static (int Code, string Output) Wait(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    private static ProcessStartInfo StartInfo(string relativePath, IEnumerable<string> args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, relativePath);
        if (!File.Exists(exe)) throw new FileNotFoundException($"{exe} is missing from the tests' output folder.", exe);
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "400"; // keep Spectre.Console from wrapping messages the tests look for
        // The same intra-op thread count as this process: BLAS splits matrix products by thread, so the bits of a
        // generated p-Model depend on it, and tests compare the executable's bytes with the library's.
        // The process's count, not torch.get_num_threads(): that is per thread, and tests run on whatever thread xunit gives.
        psi.Environment["TINA_THREADS"] = Tina.Runtime.TorchRuntime.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return psi;
    }
}
