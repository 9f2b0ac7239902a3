using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Tina.Generic;
using Tina.PModels;
using Tina.Runtime;
using Tina.Tasks;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary><c>tina bench …</c>: speed measurements that print a table.</summary>
internal static class BenchCommands
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Benchmarks (print a table).");
        cmd.Subcommands.Add(Zoo());
        cmd.Subcommands.Add(BenchServeCommand.Create());
        return cmd;
    }

    /// <summary>
    /// Fine-tunes the same tasks with different group sizes: throughput against the compute floor, p-Acc, and how
    /// close the weights are.
    /// </summary>
    private static Command Zoo()
    {
        var tasks = new Option<int>("--tasks") { Description = "Tasks to fine-tune per configuration.", DefaultValueFactory = _ => 32 };
        var groups = new Option<string>("--groups") { Description = "Comma-separated group sizes; the first is the reference.", DefaultValueFactory = _ => "1,8,32" };
        var epochs = new Option<int>("--epochs") { Description = "Fine-tuning epochs.", DefaultValueFactory = _ => 10 };
        var classes = new Option<string>("--classes") { Description = "Classes per task: N, or MIN-MAX as in tina zoo build (mixed counts share groups).", DefaultValueFactory = _ => "10" };
        var cmd = new Command("zoo", "p-Models per minute when training one at a time vs. many at once, against the compute floor, and whether they are equal.")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, tasks, groups, epochs, classes,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var sizes = CliContext.ParsePositiveInts(r.GetValue(groups), "--groups");
            var (minClasses, maxClasses) = ZooCommands.ParseClassRange(r.GetValue(classes));
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            var sampled = new TaskSampler(data, minClasses, maxClasses, seed: 99).Draw(r.GetValue(tasks)).Select((t, i) => (t.Task, Seed: 1000 + i)).ToList();
            var defaults = new FineTuneOptions { Epochs = r.GetValue(epochs) };
            // The floor: every p-Model's image passes (epochs × whole batches) at the measured matrix-product speed.
            double flops = ComputeFloor.MeasureMatmulFlops(TimeSpan.FromSeconds(2));
            var passes = sampled.Select(s => (s.Task.Count, (long)defaults.Epochs * (data.Train.IndicesOf(s.Task.Classes.ToHashSet()).Length / defaults.BatchSize) * defaults.BatchSize)).ToList();
            double floor = ComputeFloor.PModelsPerMinute(flops, arch, passes);
            string counts = minClasses == maxClasses ? $"{minClasses} classes" : $"{minClasses}-{maxClasses} classes";
            var table = new Table().Title($"zoo fine-tuning, {arch.ToName()}, {sampled.Count} tasks of {counts} × {defaults.Epochs} epochs, {TorchRuntime.Threads} threads on {Environment.ProcessorCount} cores")
                .AddColumn("p-Models at once").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("p-Models / min").RightAligned())
                .AddColumn(new TableColumn("% of floor").RightAligned())
                .AddColumn(new TableColumn("mean p-Acc %").RightAligned()).AddColumn(new TableColumn("max |Δ p-Acc| vs first").RightAligned()).AddColumn(new TableColumn("max |Δ weight| vs first").RightAligned());
            List<FineTuned>? reference = null;
            foreach (var size in sizes)
            {
                var opts = defaults with { ModelsPerGroup = size };
                using var tuner = new FineTuner(generic, data, opts);   // ResNet features are computed here, outside the timing
                var sw = Stopwatch.StartNew();
                var results = new List<FineTuned>();
                for (int i = 0; i < sampled.Count; i += size)
                    results.AddRange(tuner.Train(sampled.Skip(i).Take(size).ToList(), cancel));
                sw.Stop();
                reference ??= results;
                double dAcc = results.Zip(reference).Max(p => Math.Abs(p.First.PAcc - p.Second.PAcc));
                double dW = results.Zip(reference).Max(p => p.First.Parameters.Zip(p.Second.Parameters).Max(q => Math.Abs(q.First - q.Second)));
                double rate = sampled.Count / sw.Elapsed.TotalMinutes;
                table.AddRow(size.ToString(), $"{sw.Elapsed.TotalSeconds:F1}", $"{rate:F1}", $"{100 * rate / floor:F0} %",
                    $"{results.Average(x => x.PAcc):F2}", $"{dAcc:F2}", $"{dW:E1}");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Compute floor: {floor:F1} p-Models / min ({flops / 1e9:F0} GFLOP/s measured on 512×512 float matrix products; " +
                $"{ComputeFloor.TrainingFlopsPerImage(arch, maxClasses) / 1e6:F2} MFLOP per training image at {maxClasses} classes; {passes.Average(p => p.Item2):N0} image passes per p-Model on average).");
            return 0;
        }));
        return cmd;
    }
}
