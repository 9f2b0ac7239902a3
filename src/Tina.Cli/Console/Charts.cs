using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScottPlot;
using Spectre.Console;
using Tina.MLNet.Errors;
using Tina.MLNet.IO;

namespace Tina.Cli.Console;

/// <summary>
/// The charts of the <c>tina</c> command (ScottPlot 5), drawn in the tina process: the loss curve that
/// <c>tina train</c> writes next to <c>loss.csv</c>, and <c>tina plot loss</c> / <c>tina plot pacc</c>. ScottPlot 5
/// and ML.NET 6's image transforms use the same SkiaSharp 3; <c>PixelsBesideChartsTests</c> checks that drawing a
/// chart leaves the pixels ML.NET extracts unchanged, bit for bit. Bad input files throw a <see cref="TinaException"/>
/// naming the file.
/// </summary>
internal static class Charts
{
    /// <summary>
    /// Draws the loss curve of <paramref name="csv"/> into <paramref name="png"/> for <c>tina train</c>; on failure
    /// prints why and returns false (a chart is never essential).
    /// </summary>
    public static bool TryLoss(string csv, string png)
    {
        try
        {
            Loss([csv], [], png);
            return true;
        }
        catch (Exception e) when (e is TinaException or IOException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLine($"[yellow]No chart: {Markup.Escape(e.Message)}[/]");
            return false;
        }
    }

    /// <summary>
    /// Training loss per epoch (log scale) of one or more <c>loss.csv</c> files (<c>epoch,loss</c> with a header),
    /// one line each, labelled by <paramref name="labels"/> or else by the file's folder; an 800×500 PNG at
    /// <paramref name="png"/> (written atomically). Returns the PNG's full path.
    /// </summary>
    public static string Loss(IReadOnlyList<string> csvFiles, IReadOnlyList<string> labels, string png)
    {
        if (csvFiles.Count == 0) throw new TinaException("Give at least one --csv file (loss.csv, written by tina train).");
        var plot = new Plot();
        for (int i = 0; i < csvFiles.Count; i++)
        {
            var file = Path.GetFullPath(csvFiles[i]);
            var rows = ReadLoss(file);
            var line = plot.Add.ScatterLine(rows.Select(x => x.Epoch).ToArray(), rows.Select(x => Math.Log10(x.Loss)).ToArray());
            line.LegendText = i < labels.Count ? labels[i] : Path.GetFileName(Path.GetDirectoryName(file)) ?? file;
        }
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture) };
        plot.Title("Tina training loss");
        plot.XLabel("epoch");
        plot.YLabel("loss (x0 MSE)");
        plot.ShowLegend(Alignment.UpperRight);
        return Save(plot, png, 800, 500);
    }

    private static (double Epoch, double Loss)[] ReadLoss(string file)
    {
        if (!File.Exists(file)) throw new TinaFileNotFoundException(file, "Give a loss.csv written by tina train.");
        var rows = new List<(double, double)>();
        foreach (var (line, number) in File.ReadLines(file).Select((l, n) => (l, n + 1)).Skip(1))
        {
            if (line.Length == 0) continue;
            var parts = line.Split(',');
            if (parts.Length < 2 || !double.TryParse(parts[0], CultureInfo.InvariantCulture, out var epoch) || !double.TryParse(parts[1], CultureInfo.InvariantCulture, out var loss))
                throw new CorruptFileException(file, $"line {number} is not 'epoch,loss': '{line}'");
            rows.Add((epoch, loss));
        }
        if (rows.Count == 0) throw new CorruptFileException(file, "it has no epochs");
        return rows.ToArray();
    }

    /// <summary>
    /// Grouped bars: p-Acc (mean ± std over tasks) per method for each group of tasks (ID, OOD, OOD per unseen share …)
    /// of each <c>tina eval --json</c> result file; a 1000×550 PNG at <paramref name="png"/>. <paramref name="labels"/>:
    /// one per file, put before its groups' names (default: the file's arch); <paramref name="only"/>: draw only the
    /// groups with this key (the labels then leave the key out); <paramref name="methods"/>: only these methods, in this
    /// order (empty: every method, in the files' order). Returns the PNG's full path.
    /// </summary>
    public static string PAcc(IReadOnlyList<string> jsonFiles, IReadOnlyList<string> labels, string title, string? only, IReadOnlyList<string> methods, string png)
    {
        if (jsonFiles.Count == 0) throw new TinaException("Give at least one --json file (written by tina eval --zoo … --json).");
        if (labels.Count != 0 && labels.Count != jsonFiles.Count) throw new TinaException($"Give one --labels entry per --json file ({jsonFiles.Count}); got {labels.Count}.");
        var groups = new List<(string Label, List<(string Method, double Mean, double Std)> Values)>();
        for (int f = 0; f < jsonFiles.Count; f++)
        {
            var file = Path.GetFullPath(jsonFiles[f]);
            if (!File.Exists(file)) throw new TinaFileNotFoundException(file, "Give a result file of tina eval --zoo … --json.");
            try
            {
                var doc = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new CorruptFileException(file, "it is not a tina eval result (a JSON object)");
                string prefix = labels.Count > 0 ? labels[f] : doc["arch"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(file);
                // Every group of tasks the file holds, in its order: id, ood, ood-unseen-50 …
                foreach (var (split, node) in doc)
                {
                    if (node is not JsonObject group || group["methods"] is not JsonObject results) continue;
                    if (only is not null && split != only) continue;
                    string label = only is not null && prefix.Length > 0 ? prefix
                        : $"{prefix} {split.ToUpperInvariant().Replace("OOD-UNSEEN-", "OOD ", StringComparison.Ordinal)}{(split.StartsWith("ood-unseen-", StringComparison.Ordinal) ? "% unseen" : "")} ({node["tasks"]})".Trim();
                    int at = groups.FindIndex(g => g.Label == label);   // e.g. tina-ddpm measured in a second run on the same tasks
                    if (at < 0) groups.Add((label, []));
                    var values = groups[at < 0 ? groups.Count - 1 : at].Values;
                    foreach (var (method, result) in results)
                        if (values.All(v => v.Method != method) && (methods.Count == 0 || methods.Contains(method)))
                            values.Add((method, Number(result, "pAcc", file, method), Number(result, "std", file, method)));
                }
            }
            catch (JsonException e)
            {
                throw new CorruptFileException(file, e.Message, e);
            }
        }
        if (groups.Count == 0) throw new TinaException("No groups of results in the given files (use tina eval --zoo … --json).");
        var names = methods.Count > 0
            ? methods.Where(m => groups.Any(g => g.Values.Any(v => v.Method == m))).ToList()
            : groups.SelectMany(g => g.Values.Select(v => v.Method)).Distinct().ToList();
        if (names.Count == 0) throw new TinaException($"None of the methods {string.Join(", ", methods)} is in the given files.");
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int slot = names.Count + 1;
        for (int m = 0; m < names.Count; m++)
        {
            var bars = new List<Bar>();
            for (int g = 0; g < groups.Count; g++)
            {
                var v = groups[g].Values.FirstOrDefault(x => x.Method == names[m]);
                if (v.Method is null) continue;
                bars.Add(new Bar { Position = g * slot + m, Value = v.Mean, Error = v.Std, FillColor = palette.GetColor(m), Label = names.Count <= 3 ? $"{v.Mean:F1}" : "" });   // values only where they fit
            }
            plot.Add.Bars(bars).LegendText = names[m];
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            Enumerable.Range(0, groups.Count).Select(g => g * slot + (names.Count - 1) / 2.0).ToArray(), groups.Select(g => g.Label).ToArray());
        if (groups.Any(g => g.Label.Length * names.Count > 24) || groups.Count > 6)
        {
            // Long or many labels: slant them so that they do not run into each other.
            plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 10 + 7 * groups.Max(g => g.Label.Length);
        }
        plot.Axes.SetLimitsY(0, 100);
        plot.YLabel("p-Acc % (mean ± std over tasks)");
        plot.Title(title);
        plot.ShowLegend(Edge.Right);
        return Save(plot, png, 1000, 550);
    }

    private static double Number(JsonNode? result, string key, string file, string method)
    {
        try
        {
            return result?[key]?.GetValue<double>() ?? throw new CorruptFileException(file, $"method '{method}' has no \"{key}\"");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new CorruptFileException(file, $"method '{method}': \"{key}\" is not a number", e);
        }
    }

    private static string Save(Plot plot, string png, int width, int height)
    {
        png = Path.GetFullPath(png);
        Directory.CreateDirectory(Path.GetDirectoryName(png)!);
        AtomicFile.WriteAllBytes(png, plot.GetImageBytes(width, height, ImageFormat.Png));
        return png;
    }
}
