using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using ScottPlot;

// tina-plot: the charts of the tina CLI (loss curves of `tina train`, p-Acc bars of `tina eval --json`), written as PNG.
var root = new RootCommand("Charts for Tina: loss curves and p-Acc bar charts (PNG).");

var csv = new Option<string[]>("--csv") { Description = "loss.csv files written by tina train (epoch,loss).", Required = true, AllowMultipleArgumentsPerToken = true };
var labels = new Option<string[]>("--label") { Description = "Legend label per --csv (default: the folder name).", AllowMultipleArgumentsPerToken = true };
var outLoss = new Option<string>("--out") { Description = "PNG to write.", Required = true };
var loss = new Command("loss", "Training loss per epoch (log scale).") { csv, labels, outLoss };
loss.SetAction(r => Run(() =>
{
    var files = r.GetValue(csv)!;
    var names = r.GetValue(labels) ?? [];
    var plot = new Plot();
    for (int i = 0; i < files.Length; i++)
    {
        var rows = File.ReadAllLines(files[i]).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Select(p => (Epoch: double.Parse(p[0], CultureInfo.InvariantCulture), Loss: double.Parse(p[1], CultureInfo.InvariantCulture))).ToArray();
        if (rows.Length == 0) throw new InvalidDataException($"{files[i]} has no epochs.");
        var line = plot.Add.ScatterLine(rows.Select(x => x.Epoch).ToArray(), rows.Select(x => Math.Log10(x.Loss)).ToArray());
        line.LegendText = i < names.Length ? names[i] : Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(files[i]))) ?? files[i];
    }
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture) };
    plot.Title("Tina training loss");
    plot.XLabel("epoch");
    plot.YLabel("loss (x0 MSE)");
    plot.ShowLegend(Alignment.UpperRight);
    return Save(plot, r.GetValue(outLoss)!, 800, 500);
}));
root.Subcommands.Add(loss);

var json = new Option<string[]>("--json") { Description = "Result files of tina eval --zoo … --json; files on the same arch and tasks are drawn as one group.", Required = true, AllowMultipleArgumentsPerToken = true };
var outBars = new Option<string>("--out") { Description = "PNG to write.", Required = true };
var fileLabels = new Option<string[]>("--labels") { Description = "One label per --json file, put before its groups' names (default: the file's arch).", AllowMultipleArgumentsPerToken = true };
var title = new Option<string>("--title") { Description = "Chart title.", DefaultValueFactory = _ => "CIFAR-100 p-Acc" };
var only = new Option<string?>("--only") { Description = "Draw only the groups with this key in the result files (e.g. ood); the labels then leave the key out." };
var methodFilter = new Option<string[]>("--methods") { Description = "Draw only these methods (e.g. tina), in this order.", AllowMultipleArgumentsPerToken = true };
var bars = new Command("pacc", "Grouped bars: p-Acc per method for each group of tasks (ID, OOD, OOD per unseen share …) of each result file.") { json, outBars, fileLabels, title, only, methodFilter };
bars.SetAction(r => Run(() =>
{
    var groups = new List<(string Label, List<(string Method, double Mean, double Std)> Values)>();
    var files = r.GetValue(json)!;
    var prefixes = r.GetValue(fileLabels) ?? [];
    if (prefixes.Length != 0 && prefixes.Length != files.Length) throw new InvalidDataException($"Give one --labels entry per --json file ({files.Length}); got {prefixes.Length}.");
    for (int f = 0; f < files.Length; f++)
    {
        var file = files[f];
        var doc = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new InvalidDataException($"{file} is not a tina eval result.");
        string prefix = prefixes.Length > 0 ? prefixes[f] : doc["arch"]?.GetValue<string>() ?? Path.GetFileNameWithoutExtension(file);
        // Every group of tasks the file holds, in its order: id, ood, ood-unseen-50 …
        foreach (var (split, node) in doc)
        {
            if (node is not JsonObject group || group["methods"] is not JsonObject methods) continue;
            if (r.GetValue(only) is { } keep && split != keep) continue;
            string label = r.GetValue(only) is not null && prefix.Length > 0 ? prefix
                : $"{prefix} {split.ToUpperInvariant().Replace("OOD-UNSEEN-", "OOD ", StringComparison.Ordinal)}{(split.StartsWith("ood-unseen-", StringComparison.Ordinal) ? "% unseen" : "")} ({node["tasks"]})".Trim();
            int at = groups.FindIndex(g => g.Label == label);   // e.g. tina-ddpm measured in a second run on the same tasks
            if (at < 0) groups.Add((label, []));
            var values = groups[at < 0 ? groups.Count - 1 : at].Values;
            var chosen = r.GetValue(methodFilter) is { Length: > 0 } wanted ? wanted : null;
            foreach (var (method, result) in methods)
                if (values.All(v => v.Method != method) && (chosen is null || chosen.Contains(method)))
                    values.Add((method, result!["pAcc"]!.GetValue<double>(), result!["std"]!.GetValue<double>()));
        }
    }
    if (groups.Count == 0) throw new InvalidDataException("No groups of results in the given files (use tina eval --zoo … --json).");
    var methodNames = r.GetValue(methodFilter) is { Length: > 0 } order
        ? order.Where(m => groups.Any(g => g.Values.Any(v => v.Method == m))).ToList()
        : groups.SelectMany(g => g.Values.Select(v => v.Method)).Distinct().ToList();
    if (methodNames.Count == 0) throw new InvalidDataException($"None of the methods {string.Join(", ", r.GetValue(methodFilter)!)} is in the given files.");
    var plot = new Plot();
    var palette = new ScottPlot.Palettes.Category10();
    int slot = methodNames.Count + 1;
    for (int m = 0; m < methodNames.Count; m++)
    {
        var list = new List<Bar>();
        for (int g = 0; g < groups.Count; g++)
        {
            var v = groups[g].Values.FirstOrDefault(x => x.Method == methodNames[m]);
            if (v.Method is null) continue;
            list.Add(new Bar { Position = g * slot + m, Value = v.Mean, Error = v.Std, FillColor = palette.GetColor(m), Label = methodNames.Count <= 3 ? $"{v.Mean:F1}" : "" });   // values only where they fit
        }
        plot.Add.Bars(list).LegendText = methodNames[m];
    }
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
        Enumerable.Range(0, groups.Count).Select(g => g * slot + (methodNames.Count - 1) / 2.0).ToArray(), groups.Select(g => g.Label).ToArray());
    if (groups.Any(g => g.Label.Length * methodNames.Count > 24) || groups.Count > 6)
    {
        // Long or many labels: slant them so that they do not run into each other.
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 10 + 7 * groups.Max(g => g.Label.Length);
    }
    plot.Axes.SetLimitsY(0, 100);
    plot.YLabel("p-Acc % (mean ± std over tasks)");
    plot.Title(r.GetValue(title)!);
    plot.ShowLegend(Edge.Right);
    return Save(plot, r.GetValue(outBars)!, 1000, 550);
}));
root.Subcommands.Add(bars);
return root.Parse(args).Invoke();

static int Save(Plot plot, string path, int width, int height)
{
    path = Path.GetFullPath(path);
    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
    var tmp = path + ".tmp.png";
    plot.SavePng(tmp, width, height);
    File.Move(tmp, path, overwrite: true);
    Console.WriteLine($"Wrote {path}");
    return 0;
}

static int Run(Func<int> body)
{
    try { return body(); }
    catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException or System.Text.Json.JsonException or NullReferenceException)
    {
        Console.Error.WriteLine($"tina-plot: {e.Message}");
        return 2;
    }
}
