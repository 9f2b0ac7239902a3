using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Tina.Generation;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;
using Tina.Tests.Generation;

namespace Tina.Tests.MLNet;

/// <summary>
/// A library reads no environment variable a caller did not pass, writes no file outside a folder the caller named,
/// and downloads only when asked. Proven on the calls an app makes — <c>TinaPredictor</c> (sync and async), the
/// ML.NET chain, <c>TinaGenerate</c> with known classes, and with a class the generator lacks while GloVe is not set
/// up — in a fresh process whose working folder, home folder and temp folder are empty and watched, with a fake
/// <c>npm</c> first on PATH that records being called, and an <see cref="EventListener"/> on .NET's networking
/// events (DNS, sockets, HTTP).
/// </summary>
public class NoHiddenSideEffectsTests
{
    [Fact]
    public async Task LibraryCallsWriteNoFileAndOpenNoConnectionUnlessAsked()
    {
        if (OperatingSystem.IsWindows()) return; // a shell script stands in for npm
        var f = ThreeClassFixture.Instance;
        var root = TestData.TempDir();
        string Dir(string name) => Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        var (inputs, work, home, tmp, output, bin, spy) = (Dir("inputs"), Dir("work"), Dir("home"), Dir("tmp"), Dir("output"), Dir("bin"), Dir("spy"));

        var model = Path.Combine(inputs, "model.onnx");
        File.WriteAllBytes(model, f.Onnx);
        var image = Path.Combine(inputs, "image.png");
        File.Copy(Path.Combine(f.ImageDir, f.FileNames[0]), image);
        var generator = GloveGenerator(Path.Combine(inputs, "generator"));

        // npm, as GloVe's download would run it: records the call (outside every watched folder) and fails.
        var npm = Path.Combine(bin, "npm");
        File.WriteAllText(npm, $"#!/bin/sh\necho \"$@\" >> '{Path.Combine(spy, "npm-called")}'\nexit 1\n");
        File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var before = Snapshot(inputs);
        var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        // Native code (ONNX Runtime, libtorch) is invisible to .NET's networking events: where strace is installed, the
        // child runs under it and every connect() call is logged, whatever library makes it.
        var strace = new[] { "/usr/bin/strace", "/bin/strace" }.FirstOrDefault(File.Exists);
        var connectLog = Path.Combine(spy, "connect.log");
        var psi = new ProcessStartInfo(strace ?? dotnet)
        {
            WorkingDirectory = work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (strace is not null)
            foreach (var a in new[] { "-f", "-qq", "-e", "trace=connect", "-o", connectLog, dotnet })
                psi.ArgumentList.Add(a);
        foreach (var a in new[] { "exec", typeof(NoHiddenSideEffectsTests).Assembly.Location, "library-calls", model, image, generator, output })
            psi.ArgumentList.Add(a);
        psi.Environment["HOME"] = home;
        psi.Environment["TMPDIR"] = tmp;
        psi.Environment["PATH"] = bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        foreach (var v in new[] { "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "TINA_ARTIFACTS", "TINA_DATA", "TINA_THREADS" })
            psi.Environment.Remove(v);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
            await p.WaitForExitAsync(timeout.Token);
        var log = await stdout + await stderr;
        Assert.True(p.ExitCode == 0, log);

        Assert.Contains("predict: ok", log);
        Assert.Contains("predict-async: ok", log);
        Assert.Contains("temp files after the predictor: 0", log);
        Assert.Contains("cancelled: OperationCanceledException", log);
        Assert.Contains("generate-known: ok", log);
        // The class the generator lacks: one clear error naming the command that fetches GloVe, and no download.
        Assert.Contains("generate-unknown: TinaFileNotFoundException", log);
        Assert.Contains("tina text fetch glove", log);
        Assert.Contains(Path.Combine(home, ".local", "share", "tina"), log); // the documented default folder, named in the error
        Assert.Contains("network events: 0", log);
        Assert.False(File.Exists(Path.Combine(spy, "npm-called")), "npm was run: " + log);
        if (strace is not null)
        {
            var connects = File.ReadLines(connectLog).Where(l => l.Contains("AF_INET")).ToList();
            Assert.True(connects.Count == 0, "network connections (strace):\n" + string.Join("\n", connects.Take(20)));
        }

        // Nothing written anywhere but the folder the app named for its model.
        foreach (var (name, dir) in new[] { ("working folder", work), ("home folder", home), ("temp folder", tmp) })
        {
            var written = Snapshot(dir);
            Assert.True(written.Count == 0, $"Written to the {name}:\n{string.Join("\n", written)}\n{log}");
        }
        Assert.Equal(before, Snapshot(inputs));
        Assert.Equal(["fruit.zip"], Snapshot(output));
    }

    [Fact]
    public void NoLibrarySourceReadsTheEnvironmentOrTheWorkingFolder()
    {
        var offenders = new[] { "Tina", "Tina.MLNet", "Tina.MLNet.Generation" }
            .SelectMany(project => Directory.EnumerateFiles(Path.Combine(TestData.RepoRoot, "src", project), "*.cs", SearchOption.AllDirectories))
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(file => File.ReadLines(file).Select((line, i) => (file, line, i)))
            .Where(x => x.line.Contains("GetEnvironmentVariable") || x.line.Contains("Environment.CurrentDirectory") || x.line.Contains("GetCurrentDirectory"))
            .Select(x => $"{Path.GetRelativePath(TestData.RepoRoot, x.file)}:{x.i + 1}: {x.line.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "The libraries must take settings as options (the CLI reads the environment):\n" + string.Join("\n", offenders));
    }

    /// <summary>A copy of the test generator that says it was trained with GloVe, so a class outside its zoo needs GloVe.</summary>
    private static string GloveGenerator(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(GenerationFixture.CheckpointDir))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        var statePath = Path.Combine(dir, TinaCheckpoint.StateFile);
        var state = JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
        var key = state.Select(kv => kv.Key).Single(k => k.Equals("textEncoderId", StringComparison.OrdinalIgnoreCase));
        state[key] = "glove-wink-100d@1.1.0+sif:00000000";
        File.WriteAllText(statePath, state.ToJsonString());
        return dir;
    }

    /// <summary>Every file under <paramref name="dir"/> (relative paths, sorted), and hidden folders the runtime might create.</summary>
    private static List<string> Snapshot(string dir) =>
        Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(e => Path.GetRelativePath(dir, e)).Order(StringComparer.Ordinal).ToList();
}

/// <summary>The child side of <see cref="NoHiddenSideEffectsTests"/>: the library calls, reported one per line.</summary>
internal static class LibraryCallsProbe
{
    public static int Run(string modelPath, string imagePath, string generatorDir, string outputDir)
    {
        using var network = new NetworkEvents();
        var bytes = File.ReadAllBytes(imagePath);

        using (var predictor = TinaPredictor.Load(modelPath))
        {
            predictor.Predict(imagePath);
            predictor.Predict(bytes);
            Console.WriteLine("predict: ok");
            predictor.PredictAsync(new MemoryStream(bytes)).GetAwaiter().GetResult();
            Console.WriteLine("predict-async: ok");
            try
            {
                predictor.PredictAsync(new MemoryStream(bytes), cancellationToken: new CancellationToken(canceled: true)).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException e)
            {
                Console.WriteLine($"cancelled: {nameof(OperationCanceledException)} ({e.GetType().Name})");
            }
        }

        // The predictor's copy of its model (ML.NET's ONNX transformer reads a file) is gone once it is disposed.
        Console.WriteLine($"temp files after the predictor: {Directory.GetFileSystemEntries(Path.GetTempPath(), "*.onnx", SearchOption.AllDirectories).Length}");
        var ml = new MLContext(seed: 0);
        string[] known;
        using (var g = TinaGenerator.Load(generatorDir, _ => throw new InvalidOperationException("no encoder needed")))
            known = g.StoredClassNames.Take(3).ToArray();
        // The chain reads its ONNX model from a file in the temp folder while it lives (ML.NET's OnnxTransformer needs
        // one); Tina deletes it when the process exits, and the predictor's when the predictor is disposed.
        using (var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = generatorDir, Classes = known })
            .Fit(TinaMLNetModel.EmptyInput(ml)))
        {
            TinaMLNetModel.Save(ml, model, Path.Combine(outputDir, "fruit.zip"));
            using var engine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(model);
            engine.Predict(new TinaImageInput { ImagePath = imagePath });
        }
        Console.WriteLine("generate-known: ok");

        try
        {
            ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = generatorDir, Classes = [known[0], "snow leopard"] })
                .Fit(TinaMLNetModel.EmptyInput(ml));
            Console.WriteLine("generate-unknown: no error");
        }
        catch (FileNotFoundException e)
        {
            Console.WriteLine($"generate-unknown: {e.GetType().Name}: {e.Message}");
        }
        Console.WriteLine($"network events: {network.Count}{(network.Count > 0 ? " (" + string.Join(", ", network.Names) + ")" : "")}");
        return 0;
    }

    /// <summary>Counts the start events of .NET's DNS, socket and HTTP event sources.</summary>
    private sealed class NetworkEvents : EventListener
    {
        private readonly List<string> _names = [];

        public int Count { get { lock (_names) return _names.Count; } }

        public IReadOnlyList<string> Names { get { lock (_names) return _names.ToList(); } }

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name is "System.Net.Sockets" or "System.Net.Http" or "System.Net.NameResolution" or "System.Net.Security")
                EnableEvents(source, EventLevel.Informational);
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is { } name && name.EndsWith("Start", StringComparison.Ordinal))
                lock (_names) _names.Add($"{e.EventSource.Name}/{name}");
        }
    }
}
