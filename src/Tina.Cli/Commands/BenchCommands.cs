using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Tina.Generic;
using Tina.PModels;
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

    /// <summary>Fine-tunes the same tasks with different group sizes: throughput, p-Acc, and how close the weights are.</summary>
    private static Command Zoo()
    {
        var tasks = new Option<int>("--tasks") { Description = "Tasks to fine-tune per configuration.", DefaultValueFactory = _ => 32 };
        var groups = new Option<string>("--groups") { Description = "Comma-separated group sizes; the first is the reference.", DefaultValueFactory = _ => "1,8,32" };
        var epochs = new Option<int>("--epochs") { Description = "Fine-tuning epochs.", DefaultValueFactory = _ => 10 };
        var cmd = new Command("zoo", "p-Models per minute when training one at a time vs. many at once, and whether they are equal.")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, tasks, groups, epochs,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var sizes = CliContext.ParsePositiveInts(r.GetValue(groups), "--groups");
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            var sampled = new TaskSampler(data, 10, seed: 99).Draw(r.GetValue(tasks)).Select((t, i) => (t.Task, Seed: 1000 + i)).ToList();
            var table = new Table().Title($"zoo fine-tuning, {arch.ToName()}, {sampled.Count} tasks × {r.GetValue(epochs)} epochs, {Environment.ProcessorCount} cores")
                .AddColumn("p-Models at once").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("p-Models / min").RightAligned())
                .AddColumn(new TableColumn("mean p-Acc %").RightAligned()).AddColumn(new TableColumn("max |Δ p-Acc| vs first").RightAligned()).AddColumn(new TableColumn("max |Δ weight| vs first").RightAligned());
            List<FineTuned>? reference = null;
            foreach (var size in sizes)
            {
                var opts = new FineTuneOptions { Epochs = r.GetValue(epochs), ModelsPerGroup = size };
                using var tuner = new FineTuner(generic, data, opts);   // ResNet features are computed here, outside the timing
                var sw = Stopwatch.StartNew();
                var results = new List<FineTuned>();
                for (int i = 0; i < sampled.Count; i += size)
                    results.AddRange(tuner.Train(sampled.Skip(i).Take(size).ToList(), cancel));
                sw.Stop();
                reference ??= results;
                double dAcc = results.Zip(reference).Max(p => Math.Abs(p.First.PAcc - p.Second.PAcc));
                double dW = results.Zip(reference).Max(p => p.First.Parameters.Zip(p.Second.Parameters).Max(q => Math.Abs(q.First - q.Second)));
                table.AddRow(size.ToString(), $"{sw.Elapsed.TotalSeconds:F1}", $"{sampled.Count / sw.Elapsed.TotalMinutes:F1}",
                    $"{results.Average(x => x.PAcc):F2}", $"{dAcc:F2}", $"{dW:E1}");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
