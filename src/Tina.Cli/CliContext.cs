using System.CommandLine;
using Tina.MLNet.Errors;
using Tina.Runtime;

namespace Tina.Cli;

/// <summary>Options every command shares, and where they point.</summary>
internal static class CliContext
{
    public static readonly Option<string> Artifacts = new("--artifacts")
    {
        Description = "Folder for models, caches, zoos and reports (default: $TINA_ARTIFACTS or ./artifacts).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TINA_ARTIFACTS") is { Length: > 0 } a ? a : "artifacts",
    };

    public static readonly Option<string> Data = new("--data")
    {
        Description = "Folder holding the dataset archives (default: $TINA_DATA or ./data).",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TINA_DATA") is { Length: > 0 } d ? d : "data",
    };

    public static readonly Option<string> Device = new("--device")
    {
        Description = "Compute device for TorchSharp work: cpu (default) or cuda[:N] (GPU build only).",
        Recursive = true,
        DefaultValueFactory = _ => "cpu",
    };

    public static readonly Option<string?> Backbone = new("--backbone")
    {
        Description = "Folder holding ML.NET's DnnImageModels (ResNet-18) for resnet18 models (default: the one next to tina, from the Microsoft.ML.DnnImageFeaturizer.ResNet18 package).",
        Recursive = true,
    };

    public static string ArtifactsDir(ParseResult r) => Path.GetFullPath(r.GetValue(Artifacts)!);

    /// <summary>
    /// <c>TINA_THREADS</c>, when it holds a positive integer: the intra-op threads of TorchSharp and of the MiniLM
    /// encoder's ONNX Runtime. The <c>tina</c> command reads the environment (here, in the option defaults above and
    /// for its child processes); the libraries read none and get every setting passed in.
    /// </summary>
    public static int? ThreadsFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("TINA_THREADS"), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    /// <summary>
    /// How the CLI opens text encoders: their data in <c>--artifacts</c> (GloVe in <c>text/glove</c>), downloaded when
    /// missing (the command says so on standard error; <c>tina text fetch glove</c> does it up front), MiniLM with
    /// <c>TINA_THREADS</c> threads.
    /// </summary>
    public static Tina.MLNet.Generation.Text.TextEncoderOptions EncoderOptions(ParseResult r, string? clipModel = null, string? clipMerges = null) => new()
    {
        DataDirectory = ArtifactsDir(r),
        AllowDownload = true,
        ClipModelPath = clipModel,
        ClipMergesPath = clipMerges,
        Threads = ThreadsFromEnvironment() ?? 0,
        Progress = new StandardErrorLines(),
    };

    /// <summary>Writes each progress message as a line on standard error (kept out of the output a command prints).</summary>
    public sealed class StandardErrorLines : IProgress<string>
    {
        public void Report(string value) => System.Console.Error.WriteLine(value);
    }

    /// <summary>
    /// Points the process's ResNet-18 feature service at the backbone folder (<c>--backbone</c>) and at the disk cache
    /// <c>{artifacts}/features</c>, and shows its progress as a line every few seconds (features are computed inside
    /// many commands; <c>tina features</c> computes a dataset's up front with a progress bar).
    /// </summary>
    public static void ConfigureFeatures(ParseResult r)
    {
        var features = Tina.Features.BackboneFeatures.ResNet18;
        if (r.GetValue(Backbone) is { Length: > 0 } dir) features.ModelDirectory = Path.GetFullPath(dir);
        features.CacheDirectory = Path.Combine(ArtifactsDir(r), "features");
        features.Progress ??= new FeatureProgressLines();
    }

    /// <summary>Prints feature progress as one line at most every 10 s (and at the end): images, rate, time left.</summary>
    private sealed class FeatureProgressLines : IProgress<Tina.Features.FeatureProgress>
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private TimeSpan _last = TimeSpan.FromSeconds(-100);

        public void Report(Tina.Features.FeatureProgress p)
        {
            if (_clock.Elapsed - _last < TimeSpan.FromSeconds(10) && p.Done < p.Total) return;
            _last = _clock.Elapsed;
            var left = p.ImagesPerSecond > 0 ? TimeSpan.FromSeconds((p.Total - p.Done) / p.ImagesPerSecond) : TimeSpan.Zero;
            System.Console.Error.WriteLine($"{p.What}: {p.Done:N0}/{p.Total:N0} ({p.ImagesPerSecond:F0} images/s, {left:hh\\:mm\\:ss} left)");
        }
    }

    public static string DataDir(ParseResult r) => Path.GetFullPath(r.GetValue(Data)!);

    public static TorchSharp.torch.Device TorchDevice(ParseResult r)
    {
        TorchRuntime.Initialize();
        return TorchRuntime.ParseDevice(r.GetValue(Device));
    }

    /// <summary>
    /// What every option that takes classes says about their format (class lists are parsed by
    /// <see cref="Tina.Tasks.ClassList"/>, never split here).
    /// </summary>
    public const string ClassListFormat = "separated by commas, semicolons or new lines";

    /// <summary>Splits a comma-separated list of option values (method names, numbers — not classes) into trimmed, non-empty items.</summary>
    public static string[] SplitList(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Parses a comma-separated list of positive integers ("50,20,10") given to <paramref name="option"/>.</summary>
    /// <exception cref="TinaException">The list is empty or an item is not a positive integer.</exception>
    public static int[] ParsePositiveInts(string? text, string option)
    {
        var items = SplitList(text);
        if (items.Length == 0) throw new TinaException($"{option} needs at least one positive integer, e.g. 50,20,10.");
        return items.Select(item => int.TryParse(item, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? n : throw new TinaException($"{option}: '{item}' is not a positive integer.")).ToArray();
    }

    /// <summary>Parses a comma-separated list of non-negative numbers ("0.05,0.2") given to <paramref name="option"/>.</summary>
    /// <exception cref="TinaException">The list is empty or an item is not a non-negative number.</exception>
    public static double[] ParseNumbers(string? text, string option)
    {
        var items = SplitList(text);
        if (items.Length == 0) throw new TinaException($"{option} needs at least one number, e.g. 0.05,0.2.");
        return items.Select(item => double.TryParse(item, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x) && x >= 0 && double.IsFinite(x)
            ? x : throw new TinaException($"{option}: '{item}' is not a non-negative number.")).ToArray();
    }
}
