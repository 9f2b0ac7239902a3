using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Tina.MLNet.Errors;

namespace Tina.Cli.Commands;

/// <summary>
/// A child process of this executable, as <c>tina zoo build --processes</c> and <c>tina bench zoo --processes</c> run
/// them: the same command with the user's options, its own TINA_THREADS, its standard output and error kept (the last
/// lines for error messages, and every line in a log file when given), and killed with its process tree when disposed
/// before it finished. A child learns its parent's id from <see cref="ParentVariable"/> and stops when the parent is
/// gone (<see cref="StopWithParent"/>), so a rerun never races an orphan. Processes, not threads: TorchSharp training in
/// several threads of one process crashed here, and libtorch scales CNN-5K's small convolutions poorly across threads
/// (docs/RESULTS.md).
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    /// <summary>Environment variable naming the parent's process id.</summary>
    public const string ParentVariable = "TINA_PARENT_PID";

    /// <summary>The line a child prints when it is ready to start (<see cref="WaitUntilReady"/>).</summary>
    public const string ReadyLine = "ready";

    private readonly Process _process;
    private readonly StreamWriter? _log;
    private readonly Queue<string> _last = new();
    private readonly ManualResetEventSlim _ready = new();

    private ChildProcess(Process process, StreamWriter? log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>
    /// Starts this executable with <paramref name="args"/> and <paramref name="threads"/> TINA_THREADS; with
    /// <paramref name="logPath"/>, its output is appended there. Standard input is kept open for <see cref="Go"/>.
    /// </summary>
    /// <exception cref="TinaException">The executable could not be started.</exception>
    public static ChildProcess Start(IEnumerable<string> args, int threads, string? logPath = null)
    {
        var psi = SelfStartInfo(args);
        psi.RedirectStandardInput = true;
        psi.Environment["TINA_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
        psi.Environment[ParentVariable] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var log = logPath is null ? null : new StreamWriter(logPath, append: true) { AutoFlush = true };
        var process = Process.Start(psi);
        if (process is null)
        {
            log?.Dispose();
            throw new TinaException($"Could not start {psi.FileName}.");
        }
        var child = new ChildProcess(process, log);
        process.OutputDataReceived += (_, e) => child.Keep(e.Data, fromOutput: true);
        process.ErrorDataReceived += (_, e) => child.Keep(e.Data, fromOutput: false);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Whether the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Whether the child has exited with a non-zero code.</summary>
    public bool Failed => _process.HasExited && _process.ExitCode != 0;

    /// <summary>The child's exit code (once it has exited).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Waits until the child printed <see cref="ReadyLine"/>; false when it exited first.</summary>
    public bool WaitUntilReady()
    {
        while (!_ready.Wait(200))
            if (_process.HasExited) { _process.WaitForExit(); return _ready.IsSet; }
        return true;
    }

    /// <summary>Tells a ready child to start (a line on its standard input).</summary>
    public void Go()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the child to exit and for the last of its output.</summary>
    public void WaitForExit() => _process.WaitForExit();

    /// <summary>The last five non-blank lines of the child's output, after a line break ("" when none).</summary>
    public string Tail()
    {
        lock (_last) return LastLines(_last);
    }

    /// <summary>Kills the child (and its children) if it is still running, and closes its log.</summary>
    public void Dispose()
    {
        if (!_process.HasExited) { try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }
        _process.WaitForExit();
        lock (_last) _log?.Dispose();
        _process.Dispose();
        _ready.Dispose();
    }

    private void Keep(string? line, bool fromOutput)
    {
        if (line is null) return;
        if (fromOutput && line.Trim() == ReadyLine) { _ready.Set(); return; }
        lock (_last)
        {
            _log?.WriteLine(line);
            if (line.Trim().Length == 0) return;
            _last.Enqueue(line);
            if (_last.Count > 5) _last.Dequeue();
        }
    }

    /// <summary>
    /// The child side of the start signal: prints <see cref="ReadyLine"/> and waits for the parent's <see cref="Go"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The parent closed standard input without a go (it is gone).</exception>
    public static void SignalReadyAndWait()
    {
        System.Console.Out.WriteLine(ReadyLine);
        System.Console.Out.Flush();
        if (System.Console.In.ReadLine() is null) throw new OperationCanceledException("The parent process is gone.");
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
        }) { IsBackground = true, Name = "parent watch" };
        watcher.Start();
        return cts.Token;
    }

    /// <summary>The options the user gave explicitly, except <paramref name="notForwarded"/>, plus the global folders as full paths.</summary>
    public static List<string> ForwardedArguments(ParseResult r, Command command, IReadOnlyCollection<Option> notForwarded, params string[] commandPath)
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

    /// <summary>The last five non-blank lines, each on its own line after a line break ("" when none).</summary>
    public static string LastLines(IEnumerable<string> lines)
    {
        var last = lines.Where(l => l.Trim().Length > 0).TakeLast(5).ToList();
        return last.Count == 0 ? "" : Environment.NewLine + string.Join(Environment.NewLine, last);
    }

    /// <summary>Starts this executable again: the app host, or <c>dotnet Tina.Cli.dll</c> when run through dotnet.</summary>
    private static ProcessStartInfo SelfStartInfo(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? throw new TinaException("Cannot find this executable's path to start child processes.");
        var psi = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["COLUMNS"] = "200";
        return psi;
    }
}
