using System.Diagnostics;
using System.Security.Cryptography;
using Tina.PModels;
using Tina.Runtime;
using static TorchSharp.torch;

namespace Tina.Tests.Child;

/// <summary>
/// The entry point of Tina.Tests.dll when it is run as a program (<c>dotnet Tina.Tests.dll COMMAND …</c>), for tests
/// that need a fresh process: one whose hash seeds, torch generator and finalizer thread are its own, and which may
/// crash. The test runner never calls it (xunit loads the assembly through testhost).
/// </summary>
internal static class ChildProgram
{
    public static int Main(string[] args)
    {
        try
        {
            switch (args)
            {
                case ["seeds"]:
                    Console.WriteLine(ReproducibilityProbe.Describe());
                    return 0;
                case ["train", var zoo, var output, var epochs, var threads]:
                    // A Tina training run (the generation fixture's options, stand-in text encoder) that a test may kill and resume.
                    set_num_threads(int.Parse(threads, System.Globalization.CultureInfo.InvariantCulture));
                    using (var encoder = new Generation.HashTextEncoder())
                        new Tina.Generation.TinaTrainer(Generation.GenerationFixture.Options(int.Parse(epochs, System.Globalization.CultureInfo.InvariantCulture)), encoder).Train(zoo, output);
                    return 0;
                case ["library-calls", var model, var image, var generator, var output]:
                    // What an app does with the libraries, in a process whose working folder, home and PATH the test
                    // controls (MLNet/NoHiddenSideEffectsTests).
                    return MLNet.LibraryCallsProbe.Run(model, image, generator, output);
                case ["pixel-images", var dir]:
                    PixelProbe.WriteImages(dir);
                    return 0;
                case ["pixels", var dir, var order and ("pixels-first" or "chart-first" or "no-chart")]:
                    return PixelProbe.Run(dir, order);
                case [var mode and ("banned-scalars" or "safe-scalars"), var iterations, var seconds]:
                    return ScalarLoop.Run(banned: mode == "banned-scalars", int.Parse(iterations), double.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture));
                default:
                    Console.Error.WriteLine($"unknown child command: {string.Join(' ', args)}");
                    return 64;
            }
        }
        catch (Exception e)
        {
            Console.WriteLine($"EXCEPTION {e.GetType().Name}: {e.Message}");
            return 70;
        }
    }

    /// <summary>Runs <c>dotnet Tina.Tests.dll ARGS…</c>; kills it after <paramref name="timeout"/>. Output is stdout + stderr.</summary>
    public static (int Code, string Output, TimeSpan Elapsed, bool TimedOut) Run(TimeSpan timeout, params string[] args)
    {
        var dll = typeof(ChildProgram).Assembly.Location;
        var psi = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool timedOut = !p.WaitForExit(timeout);
        if (timedOut) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        return (timedOut ? -1 : p.ExitCode, stdout.Result + stderr.Result, sw.Elapsed, timedOut);
    }

    /// <summary>Starts <c>dotnet Tina.Tests.dll ARGS…</c> without waiting (output read and dropped), so a test can kill it.</summary>
    public static Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo(DotnetHost()) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("exec");
        psi.ArgumentList.Add(typeof(ChildProgram).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return TinaProcess.StartDrained(psi);
    }

    /// <summary>The dotnet host running the tests (testhost runs under it), else <c>dotnet</c> from PATH.</summary>
    private static string DotnetHost()
    {
        var env = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(env) && File.Exists(env)) return env;
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}

/// <summary>Values that must not depend on the process that computes them: derived seeds and seeded initial weights.</summary>
internal static class ReproducibilityProbe
{
    /// <summary>(seed, streams) pairs whose <see cref="Seeds.Derive"/> values the tests know.</summary>
    public static readonly (int Seed, int[] Streams)[] Inputs =
    [
        (0, []), (0, [0]), (1, [0]), (0, [1]), (3, [0, 0x200]), (3, [1, 0x200]), (11, [4, 0x7E1]), (11, [4, 0x7E2]),
        (-1, [int.MaxValue]), (42, [7, 0x7A5]), (123456789, [1, 2, 3]),
    ];

    /// <summary>One line per derived seed, then SHA-256 digests of the initial parameters of a seeded CNN-5K and ResNet-20.</summary>
    public static string Describe()
    {
        var lines = Inputs.Select(i => $"derive {i.Seed} [{string.Join(",", i.Streams)}] = {Seeds.Derive(i.Seed, i.Streams)}").ToList();
        foreach (var arch in new[] { PModelArch.Cnn5k, PModelArch.ResNet20 })
        {
            using var net = PModelNetwork.Create(arch, 10, seed: Seeds.Derive(7, 1));
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long count = 0;
            foreach (var (name, p) in net.named_parameters())
            {
                using var c = p.detach().cpu().contiguous();
                var values = c.data<float>().ToArray();
                sha.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
                sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
                count += values.Length;
            }
            lines.Add($"{arch.ToName()} seed {Seeds.Derive(7, 1)}: {count} parameters, sha256 {Convert.ToHexString(sha.GetHashAndReset())}");
        }
        return string.Join('\n', lines);
    }
}
