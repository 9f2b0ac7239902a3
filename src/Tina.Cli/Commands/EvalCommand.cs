using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Evaluation;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary><c>tina eval</c>: p-Acc of personalization methods over random tasks.</summary>
internal static class EvalCommand
{
    private static readonly string[] Known = ["generic", "classifier-selection"];

    public static Command Create()
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(", ", Known)}.", DefaultValueFactory = _ => string.Join(",", Known) };
        var tasks = new Option<int>("--tasks") { Description = "Number of random tasks (the paper averages ≥ 100).", DefaultValueFactory = _ => 100 };
        var k = new Option<int>("--classes-per-task") { Description = "Classes per task.", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the task sampler.", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file." };
        var cmd = new Command("eval", "Measure p-Acc (test split restricted to each task's classes, relabelled by prompt position).")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, methods, tasks, k, seed, json,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var names = CliContext.SplitClasses(r.GetValue(methods)).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            var unknown = names.Where(n => !Known.Contains(n)).ToList();
            if (names.Count == 0 || unknown.Count > 0)
                throw new TinaException($"Unknown method(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Known)}.");
            if (r.GetValue(tasks) < 1) throw new TinaException("--tasks must be at least 1.");
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var device = CliContext.TorchDevice(r);
            var dataset = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), dataset.Name, arch));
            var taskList = RandomTaskSampler.Sample(dataset, r.GetValue(tasks), r.GetValue(k), r.GetValue(seed));

            var results = new List<PAccResult>();
            foreach (var name in names)
            {
                IPersonalizationMethod method = name switch
                {
                    "generic" => new GenericMethod(generic, dataset.Test, device),
                    _ => new ClassifierSelectionMethod(generic, dataset.Test, device),
                };
                results.Add(ProgressView.Run($"p-Acc {name}", p =>
                    PAcc.Evaluate(method, taskList, dataset.Test, new Fraction(p), cancel)));
                (method as IDisposable)?.Dispose();
            }

            var table = new Table().Title($"p-Acc on {dataset.Name} test, {arch.ToName()}, {taskList.Count} tasks of {r.GetValue(k)} classes")
                .AddColumn("method").AddColumn(new TableColumn("p-Acc %").RightAligned()).AddColumn(new TableColumn("std").RightAligned());
            foreach (var res in results) table.AddRow(res.Method, $"{res.Mean:F2}", $"{res.Std:F2}");
            AnsiConsole.Write(table);

            if (r.GetValue(json) is { } path)
            {
                var m = new JsonObject();
                foreach (var res in results) m[res.Method] = new JsonObject { ["pAcc"] = Math.Round(res.Mean, 3), ["std"] = Math.Round(res.Std, 3) };
                var doc = new JsonObject
                {
                    ["dataset"] = dataset.Name, ["arch"] = arch.ToName(), ["split"] = "test", ["tasks"] = taskList.Count,
                    ["classesPerTask"] = r.GetValue(k), ["seed"] = r.GetValue(seed), ["genericTestAccuracy"] = generic.Card.TestAccuracy,
                    ["methods"] = m,
                };
                AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/]");
            }
            return 0;
        }));
        return cmd;
    }

    private sealed class Fraction(IProgress<Step> sink) : IProgress<double>
    {
        public void Report(double f) => sink.Report(new Step(f, ""));
    }
}
