using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary>
/// <c>tina zoo build --processes N</c>: runs the build as N child processes of this executable, each building slice
/// I/N of the task groups (<c>--shard I/N</c>) into <c>OUT/slices/I-of-N</c> with TINA_THREADS / N threads, shows their
/// combined progress, and merges the slices into OUT when all are done (<see cref="ZooMerge"/>), so the result is the
/// zoo one process with TINA_THREADS / N threads builds, byte for byte (the thread count changes the last bits). Why processes: libtorch scales CNN-5K's small convolutions poorly across threads of one
/// process, and TorchSharp training in several threads of one process crashed here (docs/RESULTS.md). A rerun resumes
/// every slice; a child exits when this process is gone, so a rerun never races an orphan.
/// </summary>
internal static class ZooProcesses
{
    /// <summary>Environment variable naming the parent's process id; a child build stops when that process is gone.</summary>
    public const string ParentVariable = "TINA_ZOO_PARENT";

    /// <summary>Runs the N slice builds and merges them into <paramref name="dir"/>; returns the merged manifest.</summary>
    public static ZooManifest Run(ParseResult r, Command build, IReadOnlyCollection<Option> notForwarded, string dir, int processes, int totalTasks, CancellationToken cancel)
    {
        var slicesRoot = Path.Combine(dir, "slices");
        var sliceDirs = Enumerable.Range(0, processes).Select(i => Path.Combine(slicesRoot, $"{i}-of-{processes}")).ToArray();
        Directory.CreateDirectory(slicesRoot);
        int threads = Math.Max(1, Runtime.TorchRuntime.Threads / processes);
        var forwarded = ForwardedArguments(r, build, notForwarded, "zoo", "build");
        AnsiConsole.MarkupLine($"{processes} processes × {threads} thread(s); slices in [bold]{Markup.Escape(slicesRoot)}[/] (logs next to them).");

        var children = new List<(Process Process, StreamWriter Log, string Dir)>();
        try
        {
            for (int i = 0; i < processes; i++)
            {
                var log = new StreamWriter(Path.Combine(slicesRoot, $"{i}-of-{processes}.log"), append: true) { AutoFlush = true };
                var psi = SelfStartInfo([.. forwarded, "--shard", $"{i}/{processes}", "--out", sliceDirs[i]]);
                psi.Environment["TINA_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
                psi.Environment[ParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
                var p = Process.Start(psi) ?? throw new TinaException($"Could not start {psi.FileName}.");
                DataReceivedEventHandler write = (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.OutputDataReceived += write;
                p.ErrorDataReceived += write;
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                children.Add((p, log, sliceDirs[i]));
            }
            int startDone = Done(sliceDirs);
            var clock = Stopwatch.StartNew();
            ProgressView.Run("zoo (slices)", progress =>
            {
                while (!children.All(c => c.Process.HasExited))
                {
                    cancel.ThrowIfCancellationRequested();
                    var failed = children.FirstOrDefault(c => c.Process.HasExited && c.Process.ExitCode != 0);
                    if (failed.Process is not null) break;
                    int done = Done(sliceDirs);
                    double perMinute = (done - startDone) / Math.Max(1e-9, clock.Elapsed.TotalMinutes);
                    progress.Report(new Step((double)done / totalTasks, $"{done}/{totalTasks} p-Models, {perMinute:F1}/min"));
                    Thread.Sleep(1000);
                }
                return 0;
            });
            foreach (var (p, _, sliceDir) in children)
            {
                if (!p.HasExited || p.ExitCode == 0) continue;
                var logPath = sliceDir + ".log";
                throw new TinaException($"The build of slice {Path.GetFileName(sliceDir).Replace("-of-", "/", StringComparison.Ordinal)} failed (exit code {p.ExitCode}); its log is {logPath}. " +
                    $"The other slices were stopped; rerun the same command to resume all of them.{Tail(logPath)}");
            }
        }
        finally
        {
            foreach (var (p, log, _) in children)
            {
                if (!p.HasExited) { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }
                p.WaitForExit();
                lock (log) log.Dispose();
                p.Dispose();
            }
        }
        var merged = ZooMerge.Merge(dir, sliceDirs);
        Directory.Delete(slicesRoot, recursive: true);
        return merged;
    }

    /// <summary>
    /// Cancels <paramref name="cancel"/>'s work when the parent named by <see cref="ParentVariable"/> is gone (checked
    /// every 2 s); returns <paramref name="cancel"/> itself when this process is no child.
    /// </summary>
    public static CancellationToken StopWithParent(CancellationToken cancel)
    {
        if (!int.TryParse(Environment.GetEnvironmentVariable(ParentVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return cancel;
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var watcher = new Thread(() =>
        {
            while (!cts.IsCancellationRequested)
            {
                try { using var parent = Process.GetProcessById(pid); if (parent.HasExited) break; }
                catch (ArgumentException) { break; } // no such process
                Thread.Sleep(2000);
            }
            cts.Cancel();
        }) { IsBackground = true, Name = "zoo parent watch" };
        watcher.Start();
        return cts.Token;
    }

    /// <summary>p-Models finished in the slice folders so far (a manifest being replaced is counted at the next poll).</summary>
    private static int Done(IEnumerable<string> sliceDirs) => sliceDirs.Sum(d =>
    {
        try { return File.Exists(Path.Combine(d, ZooManifest.FileName)) ? ZooManifest.Load(d).Shards.Sum(s => s.Count) : 0; }
        catch (Exception e) when (e is IOException or TinaException or System.Text.Json.JsonException) { return 0; }
    });

    /// <summary>The options the user gave explicitly, except <paramref name="notForwarded"/>, plus the global folders as full paths.</summary>
    internal static List<string> ForwardedArguments(ParseResult r, Command command, IReadOnlyCollection<Option> notForwarded, params string[] commandPath)
    {
        var args = new List<string>(commandPath) { "--data", CliContext.DataDir(r), "--artifacts", CliContext.ArtifactsDir(r), "--device", r.GetValue(CliContext.Device)! };
        foreach (var option in command.Options)
        {
            if (notForwarded.Contains(option) || r.GetResult(option) is not { Implicit: false } given) continue;
            args.Add(option.Name);
            args.AddRange(given.Tokens.Select(t => t.Value));
        }
        return args;
    }

    /// <summary>Starts this executable again: the app host, or <c>dotnet Tina.Cli.dll</c> when run through dotnet.</summary>
    internal static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? throw new TinaException("Cannot find this executable's path to start child processes.");
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        return psi;
    }

    private static string Tail(string logPath)
    {
        try { return LastLines(File.ReadLines(logPath)); }
        catch (IOException) { return ""; }
    }

    /// <summary>The last five non-blank lines of a child's output, each on its own line after a line break ("" when none).</summary>
    internal static string LastLines(IEnumerable<string> lines)
    {
        var last = lines.Where(l => l.Trim().Length > 0).TakeLast(5).ToList();
        return last.Count == 0 ? "" : Environment.NewLine + string.Join(Environment.NewLine, last);
    }
}
