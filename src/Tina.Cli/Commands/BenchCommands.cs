using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
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
        cmd.Subcommands.Add(Features());
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
        var processes = new Option<int>("--processes") { Description = "Also time every group size in N processes at once, as tina zoo build --processes N does: each fine-tunes every N-th group with TINA_THREADS/N threads.", DefaultValueFactory = _ => 1 };
        var worker = new Option<string?>("--worker") { Hidden = true, Description = "Internal (--processes): fine-tune groups I, I+N, … and write their results to FILE; I/N:FILE." };
        var cmd = new Command("zoo", "p-Models per minute when training one at a time vs. many at once (and in several processes), against the compute floor, and whether they are equal.")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, tasks, groups, epochs, classes, processes, worker,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var sizes = CliContext.ParsePositiveInts(r.GetValue(groups), "--groups");
            int n = r.GetValue(processes);
            if (n < 1) throw new TinaException($"--processes must be at least 1; got {n}.");
            var (minClasses, maxClasses) = ZooCommands.ParseClassRange(r.GetValue(classes));
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            var sampled = new TaskSampler(data, minClasses, maxClasses, seed: 99).Draw(r.GetValue(tasks)).Select((t, i) => (t.Task, Seed: 1000 + i)).ToList();
            var defaults = new FineTuneOptions { Epochs = r.GetValue(epochs) };
            // Head features are computed once, outside every timing; so is a warm-up (JIT, first-touch allocations):
            // one epoch of the first task.
            var features = arch.IsHeadOnly() ? FineTuner.HeadFeatures(generic, data, 0) : ((TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)?)null;
            using var trainFeatures = features?.Item1;
            using var testFeatures = features?.Item2;
            using (var warm = new FineTuner(generic, data, defaults with { Epochs = 1, ModelsPerGroup = 1 }, features)) warm.Train([sampled[0]], cancel);
            if (r.GetValue(worker) is { } job)
            {
                RunWorker(new FineTuner(generic, data, defaults with { ModelsPerGroup = sizes[0] }, features), sizes[0], sampled, job, cancel);
                return 0;
            }
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
                using var tuner = new FineTuner(generic, data, opts, features);
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
                if (n == 1) continue;
                var (seconds, inProcesses) = RunWorkers(r, cmd, [groups, processes, worker], size, n, sampled);
                double rateN = sampled.Count / (seconds / 60);
                table.AddRow($"{size} × {n} processes", $"{seconds:F1}", $"{rateN:F1}", $"{100 * rateN / floor:F0} %",
                    $"{inProcesses.Average(x => x.PAcc):F2}", $"{inProcesses.Zip(reference).Max(p => Math.Abs(p.First.PAcc - p.Second.PAcc)):F2}",
                    $"{inProcesses.Zip(reference).Max(p => p.First.Parameters.Zip(p.Second.Parameters).Max(q => Math.Abs(q.First - q.Second))):E1}");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Compute floor: {floor:F1} p-Models / min ({flops / 1e9:F0} GFLOP/s measured on 512×512 float matrix products; " +
                $"{ComputeFloor.TrainingFlopsPerImage(arch, maxClasses) / 1e6:F2} MFLOP per training image at {maxClasses} classes; {passes.Average(p => p.Item2):N0} image passes per p-Model on average).");
            if (n > 1)
                AnsiConsole.MarkupLine($"Processes: seconds are the slowest process's fine-tuning time, from when all {n} had loaded the data and the generic model (as start-up and feature computation are not counted for one process); each process has {Math.Max(1, TorchRuntime.Threads / n)} thread(s), so the last bits differ from the first row.");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// ResNet-18 feature extraction: images per second against the floor (the backbone's operations at the measured
    /// matrix-product speed), per backbone input size; with <c>--accuracy</c> also what a linear head on each size's
    /// features scores on a validation split carved from the training images (how the input size was chosen).
    /// </summary>
    private static Command Features()
    {
        var images = new Option<int>("--images") { Description = "Test images timed per size (after a warm-up batch).", DefaultValueFactory = _ => 512 };
        var sizes = new Option<string>("--sizes") { Description = "Backbone input sizes, comma-separated (224 is the package's and the one classifiers use; others use the mean image's channel means).", DefaultValueFactory = _ => "224" };
        var accuracy = new Option<bool>("--accuracy") { Description = "Also fit a linear head per size on --train-per-class training images per class and score it on the next --val-per-class (top-1 and classifier-selection p-Acc on 300 random lists of 2-10 classes)." };
        var trainPer = new Option<int>("--train-per-class") { Description = "With --accuracy: training images per class.", DefaultValueFactory = _ => 100 };
        var valPer = new Option<int>("--val-per-class") { Description = "With --accuracy: validation images per class (taken from the training split, after the training ones).", DefaultValueFactory = _ => 50 };
        var cmd = new Command("features", "ResNet-18 feature extraction: images per second against the compute floor, per input size (and, with --accuracy, a linear head's validation accuracy per size).")
        {
            Datasets.DatasetOption, images, sizes, accuracy, trainPer, valPer,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var sideList = CliContext.ParsePositiveInts(r.GetValue(sizes), "--sizes");
            int n = r.GetValue(images);
            if (n < 1) throw new TinaException("--images must be at least 1.");
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var backbone = Tina.Features.BackboneFeatures.ResNet18.Backbone;
            int threads = TorchRuntime.Threads;
            // The peak: large float matrix products in ONNX Runtime, whose kernels run the convolutions too.
            double flops = Tina.MLNet.BackboneFeatureExtractor.MeasureMatmulFlops(TimeSpan.FromSeconds(2), threads);
            static float[] Pixels(Tina.Data.ImageSet set, IReadOnlyList<int> idx) =>
                Tina.Data.Augmentation.Batch(set, idx.ToArray(), [0f, 0f, 0f], [1f, 1f, 1f], null);
            var timed = Enumerable.Range(0, Math.Min(n, data.Test.Count)).ToArray();
            var timedPixels = Pixels(data.Test, timed);
            (int[] Train, int[] Val)? split = null;
            if (r.GetValue(accuracy))
            {
                var seen = new int[data.NumClasses];
                var train = new List<int>();
                var val = new List<int>();
                for (int i = 0; i < data.Train.Count; i++)
                {
                    int c = data.Train.Labels[i], k = seen[c]++;
                    if (k < r.GetValue(trainPer)) train.Add(i);
                    else if (k < r.GetValue(trainPer) + r.GetValue(valPer)) val.Add(i);
                }
                split = (train.ToArray(), val.ToArray());
            }
            var table = new Table().Title($"ResNet-18 features of {data.Name} images (32×32 resized in the graph), ONNX Runtime, {threads} threads on {Environment.ProcessorCount} cores")
                .AddColumn(new TableColumn("input px").RightAligned()).AddColumn(new TableColumn("GFLOP/image").RightAligned())
                .AddColumn(new TableColumn("images/s").RightAligned()).AddColumn(new TableColumn("ms/image").RightAligned())
                .AddColumn(new TableColumn("floor images/s").RightAligned()).AddColumn(new TableColumn("× floor time").RightAligned());
            if (split is not null) table.AddColumn(new TableColumn("val top-1 %").RightAligned()).AddColumn(new TableColumn("val CS p-Acc %").RightAligned());
            foreach (var side in sideList)
            {
                cancel.ThrowIfCancellationRequested();
                using var extractor = new Tina.MLNet.BackboneFeatureExtractor(backbone, Tina.PModels.Normalization.ImageSize, threads, side);
                extractor.Run(timedPixels.AsMemory(0, Math.Min(timed.Length, Tina.MLNet.BackboneFeatureExtractor.BatchSize) * 3072), Math.Min(timed.Length, Tina.MLNet.BackboneFeatureExtractor.BatchSize), cancel);
                var sw = Stopwatch.StartNew();
                extractor.Run(timedPixels, timed.Length, cancel);
                double rate = timed.Length / sw.Elapsed.TotalSeconds;
                double perImage = backbone.ForwardFlops * side * side / (224.0 * 224.0);
                double floor = flops / perImage;
                var row = new List<string> { $"{side}", $"{perImage / 1e9:F2}", $"{rate:F1}", $"{1000 / rate:F2}", $"{floor:F1}", $"{floor / rate:F2}" };
                if (split is { } sp)
                {
                    var (top1, pacc) = LinearProbe(extractor.Run(Pixels(data.Train, sp.Train), sp.Train.Length, cancel), sp.Train.Select(i => data.Train.Labels[i]).ToArray(),
                        extractor.Run(Pixels(data.Train, sp.Val), sp.Val.Length, cancel), sp.Val.Select(i => data.Train.Labels[i]).ToArray(), data.NumClasses);
                    row.AddRange([$"{top1:F2}", $"{pacc:F2}"]);
                }
                table.AddRow(row.ToArray());
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Floor: the backbone's convolutions ({backbone.ForwardFlops / 1e9:F2} GFLOP per 224-pixel image, from the graph's shapes) at {flops / 1e9:F0} GFLOP/s measured on 1024×1024 float matrix products in ONNX Runtime.");
            if (split is not null)
                AnsiConsole.MarkupLine($"Accuracy: a linear softmax head (AdamW, 300 full-batch steps) on {split.Value.Train.Length:N0} training images' features, scored on {split.Value.Val.Length:N0} other training images; CS p-Acc: its rows of 300 random lists of 2–10 classes.");
            return 0;
        }));
        return cmd;
    }

    /// <summary>Top-1 and classifier-selection p-Acc of a linear softmax head fitted on <paramref name="train"/> features, scored on <paramref name="val"/>.</summary>
    private static (double Top1, double PAcc) LinearProbe(float[] train, int[] trainLabels, float[] val, int[] valLabels, int classes)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        int d = train.Length / trainLabels.Length;
        var x = TorchSharp.torch.tensor(train, [trainLabels.Length, d]);
        var y = TorchSharp.torch.tensor(trainLabels.Select(l => (long)l).ToArray());
        using var head = Seeds.WithGlobalSeed(0, () => TorchSharp.torch.nn.Linear(d, classes));
        using var opt = new Tina.Runtime.Optim.AdamW(head.parameters(), 0.01, 1e-4);
        for (int step = 0; step < 300; step++)
        {
            using var stepScope = TorchSharp.torch.NewDisposeScope();
            var loss = TorchSharp.torch.nn.functional.cross_entropy(head.forward(x), y);
            opt.ZeroGrad();
            loss.backward();
            opt.Step();
        }
        using var noGrad = TorchSharp.torch.no_grad();
        var logits = head.forward(TorchSharp.torch.tensor(val, [valLabels.Length, d])).data<float>().ToArray();
        int correct = 0;
        for (int i = 0; i < valLabels.Length; i++)
            if (Enumerable.Range(0, classes).MaxBy(c => logits[i * classes + c]) == valLabels[i]) correct++;
        var rng = new Random(0);
        var all = Enumerable.Range(0, classes).ToArray();
        double pacc = 0;
        for (int t = 0; t < 300; t++)
        {
            rng.Shuffle(all);
            var list = all[..(2 + rng.Next(9))];
            int hit = 0, count = 0;
            for (int i = 0; i < valLabels.Length; i++)
            {
                int pos = Array.IndexOf(list, valLabels[i]);
                if (pos < 0) continue;
                count++;
                if (Enumerable.Range(0, list.Length).MaxBy(j => logits[i * classes + list[j]]) == pos) hit++;
            }
            pacc += 100.0 * hit / count;
        }
        return (100.0 * correct / valLabels.Length, pacc / 300);
    }

    /// <summary>What one <c>--worker</c> process fine-tuned: its fine-tuning seconds and its p-Models by task index.</summary>
    private sealed record WorkerResult(double Seconds, List<WorkerModel> Models);

    private sealed record WorkerModel(int Index, double PAcc, float[] Parameters);

    /// <summary>
    /// The child side of <c>--processes</c>: waits for the parent's go so that all processes start together
    /// (<see cref="ChildProcess.SignalReadyAndWait"/>), fine-tunes groups I, I+N, … and writes the results atomically.
    /// </summary>
    private static void RunWorker(FineTuner tuner, int size, List<(PersonalizationTask Task, int Seed)> sampled, string job, CancellationToken cancel)
    {
        using var owned = tuner;
        var colon = job.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw new TinaException($"--worker takes I/N:FILE; got '{job}'.");
        var slice = ZooSlice.Parse(job[..colon]);
        cancel = ChildProcess.StopWithParent(cancel);
        ChildProcess.SignalReadyAndWait();
        var sw = Stopwatch.StartNew();
        var models = new List<WorkerModel>();
        for (int g = slice.Index; g * size < sampled.Count; g += slice.Count)
        {
            var results = tuner.Train(sampled.Skip(g * size).Take(size).ToList(), cancel);
            models.AddRange(results.Select((f, k) => new WorkerModel(g * size + k, f.PAcc, f.Parameters)));
        }
        Tina.IO.AtomicFile.WriteAllText(job[(colon + 1)..], System.Text.Json.JsonSerializer.Serialize(new WorkerResult(sw.Elapsed.TotalSeconds, models)));
    }

    /// <summary>Runs <paramref name="n"/> worker processes for one group size; returns the slowest one's seconds and all p-Models in task order.</summary>
    private static (double Seconds, List<FineTuned> Results) RunWorkers(ParseResult r, Command cmd, Option[] notForwarded, int size, int n, List<(PersonalizationTask Task, int Seed)> sampled)
    {
        var dir = Directory.CreateTempSubdirectory("tina-bench-zoo-");
        var children = new List<(ChildProcess Process, string File)>();
        try
        {
            var args = ChildProcess.ForwardedArguments(r, cmd, notForwarded, "bench", "zoo");
            int threads = Math.Max(1, TorchRuntime.Threads / n);
            for (int i = 0; i < n; i++)
            {
                var file = Path.Combine(dir.FullName, $"{i}.json");
                children.Add((ChildProcess.Start([.. args, "--groups", size.ToString(CultureInfo.InvariantCulture), "--worker", $"{i}/{n}:{file}"], threads), file));
            }
            // Wait until every worker has loaded the data and the model, then start them together.
            foreach (var (p, _) in children)
                if (!p.WaitUntilReady()) throw WorkerFailed(p);
            foreach (var (p, _) in children) p.Go();
            var byIndex = new FineTuned?[sampled.Count];
            double seconds = 0;
            foreach (var (p, file) in children)
            {
                p.WaitForExit();
                if (p.ExitCode != 0 || !File.Exists(file)) throw WorkerFailed(p);
                var result = System.Text.Json.JsonSerializer.Deserialize<WorkerResult>(File.ReadAllText(file))!;
                seconds = Math.Max(seconds, result.Seconds);
                foreach (var m in result.Models) byIndex[m.Index] = new FineTuned(sampled[m.Index].Task, sampled[m.Index].Seed, m.Parameters, m.PAcc);
            }
            if (byIndex.Any(x => x is null)) throw new TinaException("The bench processes did not fine-tune every task.");
            return (seconds, byIndex.Select(x => x!).ToList());
        }
        finally
        {
            foreach (var (p, _) in children) p.Dispose();
            dir.Delete(recursive: true);
        }
    }

    private static TinaException WorkerFailed(ChildProcess p) => new($"A bench process failed (exit code {p.ExitCode}).{p.Tail()}");
}
