using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Data;
using Tina.Evaluation;
using Tina.Generation;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Tasks;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary><c>tina eval</c>: p-Acc of personalization methods over random tasks or a zoo's ID/OOD tasks.</summary>
internal static class EvalCommand
{
    private static readonly string[] Known = ["generic", "classifier-selection", FineTunedMethod.Name, "tina", "tina-ddpm"];

    public static Command Create()
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(", ", Known)} (finetune needs --zoo; tina = DDIM-50, tina-ddpm = DDPM-1000, both need --generator).", DefaultValueFactory = _ => "generic,classifier-selection" };
        var tasks = new Option<int>("--tasks") { Description = "Number of tasks (random ones; with --zoo, at most this many per split).", DefaultValueFactory = _ => 100 };
        var k = new Option<int>("--classes-per-task") { Description = "Classes per random task.", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random task sampler.", DefaultValueFactory = _ => 0 };
        var zoo = new Option<string?>("--zoo") { Description = "Evaluate on this zoo's tasks: ID = its training tasks, OOD = its held-out tasks." };
        var ddimSteps = new Option<int>("--ddim-steps") { Description = "Sampling steps of the tina (DDIM) method.", DefaultValueFactory = _ => 50 };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file." };
        var ensemble = TinaCommands.EnsembleOption();
        ensemble.Description = $"Seed ensemble for the tina methods: K generated p-Models per task, classified by their mean softmax (1 to {PModelEnsemble.MaxMembers}; method names get -ensK).";
        var cmd = new Command("eval", "Measure p-Acc (test split restricted to each task's classes, relabelled by prompt position).")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, methods, tasks, k, seed, zoo, json, TinaCommands.GeneratorOption, ddimSteps, ensemble,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var names = CliContext.SplitClasses(r.GetValue(methods)).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            var unknown = names.Where(n => !Known.Contains(n)).ToList();
            if (names.Count == 0 || unknown.Count > 0)
                throw new TinaException($"Unknown method(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Known)}.");
            if (r.GetValue(tasks) < 1) throw new TinaException("--tasks must be at least 1.");
            int ensembleSize = TinaCommands.CheckEnsemble(r.GetValue(ensemble));
            if (ensembleSize > 1 && !names.Any(n => n.StartsWith("tina", StringComparison.Ordinal)))
                throw new TinaException("--ensemble applies to the tina methods; add tina or tina-ddpm to --methods.");
            var zooDir = r.GetValue(zoo);
            if (names.Contains(FineTunedMethod.Name) && zooDir is null) throw new TinaException("--methods finetune needs --zoo DIR (the fine-tuned p-Models).");
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var device = CliContext.TorchDevice(r);
            var dataset = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), dataset.Name, arch));

            var manifest = zooDir is null ? null : ZooManifest.Load(zooDir);
            if (manifest is not null && (manifest.Dataset != dataset.Name || manifest.Arch != arch.ToName()))
                throw new TinaException($"The zoo {zooDir} is {manifest.Dataset}/{manifest.Arch}, not {dataset.Name}/{arch.ToName()}.");
            var splits = manifest is null
                ? [("random", RandomTaskSampler.Sample(dataset, r.GetValue(tasks), r.GetValue(k), r.GetValue(seed)))]
                : new List<(string, IReadOnlyList<PersonalizationTask>)> { ("ID", FineTunedMethod.Tasks(manifest, "train", r.GetValue(tasks))), ("OOD", FineTunedMethod.Tasks(manifest, "ood", r.GetValue(tasks))) }
                    .Where(s => s.Item2.Count > 0).ToList();
            // The text encoder is opened only when a task names a class the checkpoint has no embedding for.
            var taskClassNames = splits.SelectMany(s => s.Item2).SelectMany(t => t.Names).Distinct(StringComparer.Ordinal).ToList();
            using var tina = names.Any(n => n.StartsWith("tina", StringComparison.Ordinal))
                ? TinaCommands.OpenGenerator(TinaCommands.RequireGenerator(r), taskClassNames, CliContext.ArtifactsDir(r), null, device, out _) // the encoder (if any) lives until the process exits
                : null;

            var results = new List<(string Split, int Tasks, PAccResult Result)>();
            foreach (var (split, list) in splits)
                foreach (var name in names)
                {
                    if (name == FineTunedMethod.Name)
                    {
                        results.Add((split, list.Count, FineTunedMethod.Evaluate(manifest!, split == "ID" ? "train" : "ood", r.GetValue(tasks))));
                        continue;
                    }
                    using var method = Create(name, generic, dataset, device, tina, r.GetValue(ddimSteps), ensembleSize);
                    results.Add((split, list.Count, ProgressView.Run($"p-Acc {split} {name}", p =>
                        PAcc.Evaluate(method.Method, list, dataset.Test, new Fraction(p), cancel))));
                }

            var table = new Table().Title($"p-Acc % on {dataset.Name} test, {arch.ToName()} (generic model: {generic.Card.TestAccuracy:F2} % top-1)")
                .AddColumn("tasks").AddColumn("method").AddColumn(new TableColumn("p-Acc %").RightAligned()).AddColumn(new TableColumn("std").RightAligned());
            foreach (var (split, n, res) in results) table.AddRow($"{split} ({n})", res.Method, $"{res.Mean:F2}", $"{res.Std:F2}");
            AnsiConsole.Write(table);

            if (r.GetValue(json) is { } path)
            {
                var doc = new JsonObject
                {
                    ["dataset"] = dataset.Name, ["arch"] = arch.ToName(), ["split"] = "test",
                    ["tasks"] = results.Count > 0 ? results[0].Tasks : 0,
                    ["taskSource"] = manifest is null ? $"random (seed {r.GetValue(seed)}, {r.GetValue(k)} classes)" : Path.GetFullPath(zooDir!),
                    ["genericTestAccuracy"] = generic.Card.TestAccuracy,
                };
                foreach (var group in results.GroupBy(x => x.Split))
                {
                    var m = new JsonObject();
                    foreach (var (_, _, res) in group) m[res.Method] = new JsonObject { ["pAcc"] = Math.Round(res.Mean, 3), ["std"] = Math.Round(res.Std, 3) };
                    if (manifest is null) doc["methods"] = m;
                    else doc[group.Key == "ID" ? "id" : "ood"] = new JsonObject { ["tasks"] = group.First().Tasks, ["methods"] = m };
                }
                AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/]");
            }
            return 0;
        }));
        return cmd;
    }

    private sealed class Owned(IPersonalizationMethod method) : IDisposable
    {
        public IPersonalizationMethod Method => method;
        public void Dispose() => (method as IDisposable)?.Dispose();
    }

    private static Owned Create(string name, GenericModel generic, ImageDataset data, TorchSharp.torch.Device device, TinaGenerator? tina, int ddimSteps, int ensemble) => new(name switch
    {
        "tina" => new TinaMethod(tina!, new GenerateOptions { Steps = ddimSteps, EnsembleSize = ensemble }, device: device),
        "tina-ddpm" => new TinaMethod(tina!, new GenerateOptions { Sampler = Diffusion.DiffusionSampler.Ddpm, EnsembleSize = ensemble }, device: device),
        "generic" => new GenericMethod(generic, data.Test, device),
        _ => new ClassifierSelectionMethod(generic, data.Test, device),
    });

    private sealed class Fraction(IProgress<Step> sink) : IProgress<double>
    {
        public void Report(double f) => sink.Report(new Step(f, ""));
    }
}
