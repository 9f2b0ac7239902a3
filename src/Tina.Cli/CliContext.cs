using System.CommandLine;
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

    public static string ArtifactsDir(ParseResult r) => Path.GetFullPath(r.GetValue(Artifacts)!);

    public static string DataDir(ParseResult r) => Path.GetFullPath(r.GetValue(Data)!);

    public static TorchSharp.torch.Device TorchDevice(ParseResult r)
    {
        TorchRuntime.Initialize();
        return TorchRuntime.ParseDevice(r.GetValue(Device));
    }

    /// <summary>Splits a comma-separated class list ("apple, pear, orange") into trimmed names.</summary>
    public static IReadOnlyList<string> SplitClasses(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
