using System.Diagnostics;
using Spectre.Console;

namespace Tina.Cli.Console;

/// <summary>
/// Runs tina-plot (src/Tina.Plot, copied to plot/ next to this executable) in its own process: ScottPlot needs
/// SkiaSharp 3 and ML.NET's image transforms in this process need SkiaSharp 2.
/// </summary>
internal static class PlotTool
{
    /// <summary>Runs <c>tina-plot</c> with <paramref name="args"/>; prints why when it is missing or fails (a chart is never essential).</summary>
    public static bool TryRun(params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, "plot", OperatingSystem.IsWindows() ? "Tina.Plot.exe" : "Tina.Plot");
        if (!File.Exists(exe))
        {
            AnsiConsole.MarkupLine($"[yellow]No chart: {Markup.Escape(exe)} is missing (build src/Tina.Cli, which copies src/Tina.Plot there).[/]");
            return false;
        }
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode == 0) return true;
        AnsiConsole.MarkupLine($"[yellow]No chart: tina-plot exited with {p.ExitCode}: {Markup.Escape((error + output.Result).Trim())}[/]");
        return false;
    }
}
