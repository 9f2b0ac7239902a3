using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.MLNet.Errors;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary>
/// <c>tina zoo build --processes N</c>: runs the build as N child processes of this executable (<see cref="ChildProcess"/>),
/// each building slice I/N of the task groups (<c>--shard I/N</c>) into <c>OUT/slices/I-of-N</c> with TINA_THREADS / N
/// threads, shows their combined progress, and merges the slices into OUT when all are done (<see cref="ZooMerge"/>), so
/// the result is the zoo one process with TINA_THREADS / N threads builds, byte for byte (the thread count changes the
/// last bits). A rerun resumes every slice.
/// </summary>
internal static class ZooProcesses
{
    /// <summary>Runs the N slice builds and merges them into <paramref name="dir"/>; returns the merged manifest.</summary>
    public static ZooManifest Run(ParseResult r, Command build, IReadOnlyCollection<Option> notForwarded, string dir, int processes, int totalTasks, CancellationToken cancel)
    {
        var slicesRoot = Path.Combine(dir, "slices");
        var sliceDirs = Enumerable.Range(0, processes).Select(i => Path.Combine(slicesRoot, $"{i}-of-{processes}")).ToArray();
        Directory.CreateDirectory(slicesRoot);
        int threads = Math.Max(1, Runtime.TorchRuntime.Threads / processes);
        var forwarded = ChildProcess.ForwardedArguments(r, build, notForwarded, "zoo", "build");
        AnsiConsole.MarkupLine($"{processes} processes × {threads} thread(s); slices in [bold]{Markup.Escape(slicesRoot)}[/] (logs next to them).");

        var children = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < processes; i++)
                children.Add(ChildProcess.Start([.. forwarded, "--shard", $"{i}/{processes}", "--out", sliceDirs[i]], threads, sliceDirs[i] + ".log"));
            int startDone = Done(sliceDirs);
            var clock = Stopwatch.StartNew();
            ProgressView.Run("zoo (slices)", progress =>
            {
                while (!children.All(c => c.HasExited) && !children.Any(c => c.Failed))
                {
                    cancel.ThrowIfCancellationRequested();
                    int done = Done(sliceDirs);
                    double perMinute = (done - startDone) / Math.Max(1e-9, clock.Elapsed.TotalMinutes);
                    progress.Report(new Step((double)done / totalTasks, $"{done}/{totalTasks} p-Models, {perMinute:F1}/min"));
                    Thread.Sleep(1000);
                }
                return 0;
            });
            for (int i = 0; i < processes; i++)
            {
                if (!children[i].Failed) continue;
                children[i].WaitForExit();
                throw new TinaException($"The build of slice {i}/{processes} failed (exit code {children[i].ExitCode}); its log is {sliceDirs[i]}.log. " +
                    $"The other slices were stopped; rerun the same command to resume all of them.{children[i].Tail()}");
            }
        }
        finally
        {
            foreach (var child in children) child.Dispose();
        }
        var merged = ZooMerge.Merge(dir, sliceDirs);
        Directory.Delete(slicesRoot, recursive: true);
        return merged;
    }

    /// <summary>p-Models finished in the slice folders so far (a manifest being replaced is counted at the next poll).</summary>
    private static int Done(IEnumerable<string> sliceDirs) => sliceDirs.Sum(d =>
    {
        try { return File.Exists(Path.Combine(d, ZooManifest.FileName)) ? ZooManifest.Load(d).Shards.Sum(s => s.Count) : 0; }
        catch (Exception e) when (e is IOException or ITinaError or System.Text.Json.JsonException) { return 0; }
    });
}
