using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Tina.Benchmarks;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Runtime;
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
            var options = new ZooBenchmarkOptions { Tasks = r.GetValue(tasks), GroupSizes = sizes, Epochs = r.GetValue(epochs), MinClasses = minClasses, MaxClasses = maxClasses, Processes = n };
            using var bench = new ZooBenchmark(generic, data, options, cancel);
            if (r.GetValue(worker) is { } job)
            {
                RunWorker(bench, job, cancel);
                return 0;
            }
            var result = bench.Run(size => RunWorkers(r, cmd, [groups, processes, worker], size, n), cancel);
            string counts = minClasses == maxClasses ? $"{minClasses} classes" : $"{minClasses}-{maxClasses} classes";
            var table = new Table().Title($"zoo fine-tuning, {arch.ToName()}, {result.Tasks} tasks of {counts} × {result.Epochs} epochs, {TorchRuntime.Threads} threads on {Environment.ProcessorCount} cores")
                .AddColumn("p-Models at once").AddColumn(new TableColumn("seconds").RightAligned()).AddColumn(new TableColumn("p-Models / min").RightAligned())
                .AddColumn(new TableColumn("% of floor").RightAligned())
                .AddColumn(new TableColumn("mean p-Acc %").RightAligned()).AddColumn(new TableColumn("max |Δ p-Acc| vs first").RightAligned()).AddColumn(new TableColumn("max |Δ weight| vs first").RightAligned());
            foreach (var row in result.Rows)
                table.AddRow(row.Processes == 1 ? row.GroupSize.ToString() : $"{row.GroupSize} × {row.Processes} processes", $"{row.Seconds:F1}", $"{row.PModelsPerMinute:F1}",
                    $"{row.PercentOfFloor:F0} %", $"{row.MeanPAcc:F2}", $"{row.MaxPAccDifference:F2}", $"{row.MaxWeightDifference:E1}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Compute floor: {result.FloorPModelsPerMinute:F1} p-Models / min ({result.MatmulFlops / 1e9:F0} GFLOP/s measured on 512×512 float matrix products; " +
                $"{result.TrainingFlopsPerImage / 1e6:F2} MFLOP per training image at {maxClasses} classes; {result.MeanImagePasses:N0} image passes per p-Model on average).");
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
            if (r.GetValue(images) < 1) throw new TinaException("--images must be at least 1.");
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var result = FeatureBenchmark.Run(Tina.Features.BackboneFeatures.ResNet18.Backbone, data, new FeatureBenchmarkOptions
            {
                Images = r.GetValue(images), Sizes = sideList, Accuracy = r.GetValue(accuracy), TrainPerClass = r.GetValue(trainPer), ValidationPerClass = r.GetValue(valPer),
                Threads = TorchRuntime.Threads,
            }, cancel);
            bool withAccuracy = r.GetValue(accuracy);
            var table = new Table().Title($"ResNet-18 features of {data.Name} images (32×32 resized in the graph), ONNX Runtime, {result.Threads} threads on {Environment.ProcessorCount} cores")
                .AddColumn(new TableColumn("input px").RightAligned()).AddColumn(new TableColumn("GFLOP/image").RightAligned())
                .AddColumn(new TableColumn("images/s").RightAligned()).AddColumn(new TableColumn("ms/image").RightAligned())
                .AddColumn(new TableColumn("floor images/s").RightAligned()).AddColumn(new TableColumn("× floor time").RightAligned());
            if (withAccuracy) table.AddColumn(new TableColumn("val top-1 %").RightAligned()).AddColumn(new TableColumn("val CS p-Acc %").RightAligned());
            foreach (var row in result.Rows)
            {
                var cells = new List<string> { $"{row.InputSize}", $"{row.FlopsPerImage / 1e9:F2}", $"{row.ImagesPerSecond:F1}", $"{row.MillisecondsPerImage:F2}", $"{row.FloorImagesPerSecond:F1}", $"{row.TimesFloor:F2}" };
                if (withAccuracy) cells.AddRange([$"{row.ValidationTop1:F2}", $"{row.ValidationPAcc:F2}"]);
                table.AddRow(cells.ToArray());
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Floor: the backbone's convolutions ({result.BackboneFlops / 1e9:F2} GFLOP per 224-pixel image, from the graph's shapes) at {result.MatmulFlops / 1e9:F0} GFLOP/s measured on 1024×1024 float matrix products in ONNX Runtime.");
            if (withAccuracy)
                AnsiConsole.MarkupLine($"Accuracy: a linear softmax head (AdamW, 300 full-batch steps) on {result.TrainImages:N0} training images' features, scored on {result.ValidationImages:N0} other training images; CS p-Acc: its rows of 300 random lists of 2–10 classes.");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// The child side of <c>--processes</c>: waits for the parent's go so that all processes start together
    /// (<see cref="ChildProcess.SignalReadyAndWait"/>), runs its slice and writes it to FILE.
    /// </summary>
    private static void RunWorker(ZooBenchmark bench, string job, CancellationToken cancel)
    {
        var colon = job.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw new TinaException($"--worker takes I/N:FILE; got '{job}'.");
        var slice = ZooSlice.Parse(job[..colon]);
        cancel = ChildProcess.StopWithParent(cancel);
        bench.RunSlice(slice, ChildProcess.SignalReadyAndWait, cancel).Save(job[(colon + 1)..]);
    }

    /// <summary>Runs <paramref name="n"/> worker processes for one group size, started together; returns their slices.</summary>
    private static List<ZooBenchmarkSlice> RunWorkers(ParseResult r, Command cmd, Option[] notForwarded, int size, int n)
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
            var slices = new List<ZooBenchmarkSlice>();
            foreach (var (p, file) in children)
            {
                p.WaitForExit();
                if (p.ExitCode != 0 || !File.Exists(file)) throw WorkerFailed(p);
                slices.Add(ZooBenchmarkSlice.Load(file));
            }
            return slices;
        }
        finally
        {
            foreach (var (p, _) in children) p.Dispose();
            dir.Delete(recursive: true);
        }
    }

    private static TinaException WorkerFailed(ChildProcess p) => new($"A bench process failed (exit code {p.ExitCode}).{p.Tail()}");
}
