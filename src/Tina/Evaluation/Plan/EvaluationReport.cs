using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tina.Zoo;

namespace Tina.Evaluation.Plan;

/// <summary>The p-Acc of one method on one group of tasks.</summary>
/// <param name="Group">The group.</param>
/// <param name="Result">Mean, standard deviation and per-task p-Acc.</param>
public sealed record EvaluationResult(EvaluationGroup Group, PAccResult Result);

/// <summary>A column of a <see cref="ReportTable"/>.</summary>
/// <param name="Name">Header.</param>
/// <param name="RightAligned">Whether the column holds numbers (right-aligned).</param>
public sealed record ReportColumn(string Name, bool RightAligned = false);

/// <summary>A table of a report, as plain text cells (an application draws it its own way).</summary>
/// <param name="Title">Title.</param>
/// <param name="Columns">Columns.</param>
/// <param name="Rows">Rows, one cell per column.</param>
public sealed record ReportTable(string Title, IReadOnlyList<ReportColumn> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// Who is ahead in a group that has Tina and classifier selection, by how many points; with the fine-tuned p-Models,
/// how much of theirs Tina reaches.
/// </summary>
/// <param name="Group">Group label.</param>
/// <param name="Lists">Number of class lists (tasks) of the group.</param>
/// <param name="Tina">p-Acc of the group's first tina method, %.</param>
/// <param name="ClassifierSelection">p-Acc of classifier selection, %.</param>
/// <param name="FineTuned">p-Acc of the fine-tuned p-Models, %, or null.</param>
public sealed record EvaluationVerdict(string Group, int Lists, double Tina, double ClassifierSelection, double? FineTuned)
{
    /// <summary>Tina minus classifier selection, points.</summary>
    public double Gap => Tina - ClassifierSelection;

    /// <summary>The comparison: "Tina beats classifier selection by 1.23 points" or "Tina is 1.23 points below classifier selection".</summary>
    public string Who => Gap >= 0 ? $"Tina beats classifier selection by {Gap:F2} points" : $"Tina is {-Gap:F2} points below classifier selection";

    /// <summary>The verdict line.</summary>
    public override string ToString()
    {
        var ft = FineTuned is { } f ? $"; fine-tuned p-Models {f:F2} % (Tina = {100 * Tina / f:F1} % of them)" : "";
        return $"Verdict, {Group} ({Lists} class lists): {Who} (Tina {Tina:F2} %, classifier selection {ClassifierSelection:F2} %{ft}).";
    }
}

/// <summary>
/// What an <see cref="Evaluator"/> measured: p-Acc per group and method, with the tables, the verdict lines and the
/// JSON document <c>tina eval</c> shows and writes (the same numbers for a library user).
/// </summary>
public sealed class EvaluationReport
{
    private readonly bool _perPrompt, _zooGroups;

    /// <summary>Assembles a report.</summary>
    /// <param name="dataset">Dataset name.</param>
    /// <param name="arch">Architecture name.</param>
    /// <param name="split">What was scored ("test", "validation", another dataset's photos…).</param>
    /// <param name="taskSource">Where the tasks came from (a zoo folder, a prompts file, "random (seed S, K classes)").</param>
    /// <param name="genericTestAccuracy">Top-1 test accuracy of the generic model, %.</param>
    /// <param name="title">Title of the main table.</param>
    /// <param name="results">Results in the order they were measured.</param>
    /// <param name="perPrompt">Whether the tasks are a prompts file's lists (reported per list).</param>
    /// <param name="zooGroups">Whether the groups are a zoo's (reported under their <see cref="EvaluationGroup.JsonKey"/>s).</param>
    /// <param name="notes">Lines noted while running.</param>
    public EvaluationReport(string dataset, string arch, string split, string taskSource, double genericTestAccuracy, string title,
        IReadOnlyList<EvaluationResult> results, bool perPrompt, bool zooGroups, IReadOnlyList<string> notes)
    {
        Dataset = dataset;
        Arch = arch;
        Split = split;
        TaskSource = taskSource;
        GenericTestAccuracy = genericTestAccuracy;
        Title = title;
        Results = results;
        _perPrompt = perPrompt;
        _zooGroups = zooGroups;
        Notes = notes.ToList();
    }

    /// <summary>Dataset name.</summary>
    public string Dataset { get; }

    /// <summary>Architecture name.</summary>
    public string Arch { get; }

    /// <summary>What was scored: "test", "validation", or another dataset's photos.</summary>
    public string Split { get; }

    /// <summary>Where the tasks came from.</summary>
    public string TaskSource { get; }

    /// <summary>Top-1 test accuracy of the generic model, %.</summary>
    public double GenericTestAccuracy { get; }

    /// <summary>Title of the main table.</summary>
    public string Title { get; }

    /// <summary>p-Acc per group and method, in the order measured.</summary>
    public IReadOnlyList<EvaluationResult> Results { get; }

    /// <summary>Lines noted while running (e.g. what the text-to-rows map was fitted on).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>
    /// The JSON document: dataset, arch, split, tasks, taskSource, genericTestAccuracy, then the methods' p-Acc and std
    /// (rounded to 3 decimals; byClasses when the tasks have several class counts; perPrompt for a prompts file) under
    /// <c>methods</c>, or for a zoo under each group's key (<c>id</c>, <c>ood</c>, <c>ood-unseen-20</c>…) with its task count.
    /// </summary>
    public JsonObject ToJson()
    {
        var doc = new JsonObject
        {
            ["dataset"] = Dataset, ["arch"] = Arch, ["split"] = Split,
            ["tasks"] = Results.Count > 0 ? Results[0].Group.Tasks.Count : 0,
            ["taskSource"] = TaskSource,
            ["genericTestAccuracy"] = GenericTestAccuracy,
        };
        foreach (var group in Results.GroupBy(x => x.Group.Label))
        {
            var m = new JsonObject();
            foreach (var (g, res) in group)
            {
                var entry = new JsonObject { ["pAcc"] = Math.Round(res.Mean, 3), ["std"] = Math.Round(res.Std, 3) };
                var byCount = res.ByClassCount(g.Tasks);
                if (byCount.Count > 1)
                    entry["byClasses"] = new JsonObject(byCount.Select(c => KeyValuePair.Create(c.Classes.ToString(CultureInfo.InvariantCulture), (JsonNode?)new JsonObject { ["tasks"] = c.Tasks, ["pAcc"] = Math.Round(c.Mean, 3) })));
                if (_perPrompt)
                    entry["perPrompt"] = new JsonArray(g.Tasks.Select((t, i) => (JsonNode?)new JsonObject { ["prompt"] = t.Prompt, ["pAcc"] = Math.Round(res.PerTask[i], 3) }).ToArray());
                m[res.Method] = entry;
            }
            var first = group.First().Group;
            if (!_zooGroups) doc["methods"] = m;
            else doc[first.JsonKey] = new JsonObject { ["tasks"] = first.Tasks.Count, ["methods"] = m };
        }
        return doc;
    }

    /// <summary>The JSON document, indented.</summary>
    public string ToJsonString() => ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Writes <see cref="ToJsonString"/> to <paramref name="path"/> (atomically: a reader sees the old file or the new one).</summary>
    public void WriteJson(string path) => AtomicFile.WriteAllText(path, ToJsonString());

    /// <summary>
    /// The tables: for a prompts file, one row per list and one column per method, then the mean; otherwise one row per
    /// group and method, then (when a group's tasks have several class counts) a table by class count.
    /// </summary>
    public IReadOnlyList<ReportTable> Tables()
    {
        if (_perPrompt)
        {
            var tasks = Results.Count > 0 ? Results[0].Group.Tasks : [];
            var rows = tasks.Select((t, i) => (IReadOnlyList<string>)[(i + 1).ToString(), t.Prompt, .. Results.Select(x => $"{x.Result.PerTask[i]:F2}")]).ToList();
            rows.Add(["", $"mean over {tasks.Count} lists", .. Results.Select(x => $"{x.Result.Mean:F2}")]);
            return [new ReportTable(Title, [new("#"), new("class list"), .. Results.Select(x => new ReportColumn(x.Result.Method, true))], rows)];
        }
        var main = new ReportTable(Title, [new("tasks"), new("method"), new("p-Acc %", true), new("std", true)],
            Results.Select(x => (IReadOnlyList<string>)[$"{x.Group.Label} ({x.Group.Tasks.Count})", x.Result.Method, $"{x.Result.Mean:F2}", $"{x.Result.Std:F2}"]).ToList());
        var counted = Results.Where(x => x.Group.Tasks.Select(t => t.Count).Distinct().Count() > 1).ToList();
        if (counted.Count == 0) return [main];
        var methods = counted.Select(x => x.Result.Method).Distinct().ToList();
        var byCount = new List<IReadOnlyList<string>>();
        foreach (var split in counted.GroupBy(x => x.Group.Label))
        {
            var per = split.ToDictionary(x => x.Result.Method, x => x.Result.ByClassCount(x.Group.Tasks));
            foreach (var (classes, n, _) in per.Values.First())
                byCount.Add([split.Key, classes.ToString(), n.ToString(), .. methods.Select(m => per.TryGetValue(m, out var rows) ? $"{rows.First(x => x.Classes == classes).Mean:F2}" : "")]);
        }
        return [main, new ReportTable("p-Acc % by class count", [new("tasks"), new("classes", true), new("n", true), .. methods.Select(m => new ReportColumn(m, true))], byCount)];
    }

    /// <summary>One verdict per group that has a tina method and classifier selection.</summary>
    public IReadOnlyList<EvaluationVerdict> Verdicts()
    {
        var verdicts = new List<EvaluationVerdict>();
        foreach (var split in Results.GroupBy(x => x.Group.Label))
        {
            var byName = split.ToDictionary(x => x.Result.Method, x => x.Result);
            var tina = byName.Values.FirstOrDefault(m => m.Method.StartsWith("tina", StringComparison.Ordinal));
            if (tina is null || !byName.TryGetValue("classifier-selection", out var cs)) continue;
            double? ft = byName.TryGetValue(FineTunedMethod.Name, out var f) ? f.Mean : null;
            verdicts.Add(new EvaluationVerdict(split.Key, split.First().Group.Tasks.Count, tina.Mean, cs.Mean, ft));
        }
        return verdicts;
    }
}
