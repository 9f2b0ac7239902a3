using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary><c>tina zoo build|show</c>: stage 2, the p-Model zoo.</summary>
internal static class ZooCommands
{
    public static Command Create()
    {
        var cmd = new Command("zoo", "Stage 2: the p-Model zoo — (task, fine-tuned p-Model, p-Acc) triples Tina trains on.");
        cmd.Subcommands.Add(Build());
        cmd.Subcommands.Add(Show());
        cmd.Subcommands.Add(Tune());
        cmd.Subcommands.Add(Merge());
        return cmd;
    }

    /// <summary>
    /// <c>--recipe NAME</c> on <c>tina zoo build</c> and <c>tina train</c>: the named set of zoo and generator settings
    /// (<see cref="Recipes"/>) that options not given take their values from.
    /// </summary>
    public static readonly Option<string?> RecipeOption = new("--recipe")
    {
        Description = $"The named zoo + generator settings every option not given takes its value from: {string.Join("; ", Recipes.All.Select(x => $"{x.Name} ({x.Description})"))}. Default: zoo build, the --arch's recipe; train, the recipe the zoo was built with.",
    };

    /// <summary>
    /// The recipe of a <c>tina zoo build</c>: <c>--recipe</c>, or the <c>--arch</c>'s (default cnn5k) recipe; a
    /// <c>--arch</c> given beside a recipe of another architecture is refused.
    /// </summary>
    private static Recipe ChooseRecipe(ParseResult r)
    {
        bool archGiven = r.GetResult(GenericCommands.ArchOption) is { Implicit: false };
        var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
        if (r.GetValue(RecipeOption) is not { } name) return Recipes.For(arch);
        var recipe = Recipes.Get(name);
        if (archGiven && recipe.Arch != arch)
            throw new TinaException($"The recipe {recipe.Name} is for {recipe.Arch.ToName()} p-Models, not --arch {arch.ToName()}; leave --arch out or pick the {arch.ToName()} recipe, {Recipes.For(arch).Name}.");
        return recipe;
    }

    public static string DefaultDir(string artifacts, string dataset, PModelArch arch) => Path.Combine(artifacts, "zoo", $"{dataset}-{arch.ToName()}");

    private static Command Build()
    {
        var tasks = new Option<int?>("--tasks") { Description = "Training (ID) tasks (paper: 1000; default: the recipe's)." };
        var ood = new Option<int?>("--ood") { Description = "Held-out (OOD) tasks (paper: 150; default: the recipe's)." };
        var epochs = new Option<int?>("--epochs") { Description = "Fine-tuning epochs per p-Model (paper: 10; default: the recipe's)." };
        var group = new Option<int?>("--group") { Description = "p-Models trained at once (default: the recipe's — 8 for cnn5k, measured faster than 32 here, 250 for heads)." };
        var lr = new Option<double?>("--lr") { Description = "Peak SGD learning rate (default: the recipe's — 0.005 for resnet18 heads and 0.05 for resnet20 heads, the tina zoo tune winners; 0.05 for cnn5k, whose generator scored best on validation zoos although lr 0.2 fine-tunes slightly better p-Models, docs/RESULTS.md)." };
        var seed = new Option<int>("--seed") { Description = "Seed of tasks and fine-tuning.", DefaultValueFactory = _ => 0 };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the fine-tuning loss.", DefaultValueFactory = _ => 0.0 };
        var l2sp = new Option<double>("--l2-sp") { Description = "L2-SP: pull every fine-tuned number toward its generic starting value with this strength (0: off), so p-Models differ from the generic model in smaller, more alike ways.", DefaultValueFactory = _ => 0.0 };
        var bodyLr = new Option<double>("--body-lr-scale") { Description = "CNN-5K: the convolutions' learning rate as a share of --lr (the classifier keeps the full rate), e.g. 0.25; 1: one rate for all.", DefaultValueFactory = _ => 1.0 };
        var classes = new Option<string?>("--classes") { Description = "Classes per task: N, or a range MIN-MAX whose every count is drawn equally often (paper: 10; default: the recipe's, 2-10, so the generator learns every prompt length)." };
        var outDir = new Option<string?>("--out") { Description = "Zoo folder (default: ARTIFACTS/zoo/DATASET-ARCH)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Images per fine-tuning step (a task needs at least this many training images; lower it for small datasets such as Caltech-101; default: the recipe's, 64)." };
        var views = new Option<int>("--augmented-views") { Description = "ResNet-20 heads: precomputed randomly augmented views of the training images (0: un-augmented features).", DefaultValueFactory = _ => 0 };
        var unseen = new Option<double>("--unseen-classes") { Description = "Share of the dataset's classes kept out of every training task (e.g. 0.5; seeded, listed in the manifest); the OOD tasks are then split evenly into 0 %, 20 %, 50 % and 100 % unseen classes (the paper's Table 3).", DefaultValueFactory = _ => 0.0 };
        var processes = new Option<int>("--processes") { Description = "Build in N processes at once, each a slice of the task groups with TINA_THREADS/N threads, merged into --out when all are done (byte for byte the zoo one process with TINA_THREADS/N threads builds; rerun to resume). On 2 cores two one-thread processes built 24.3 ten-class CNN-5K p-Models per minute at 10 epochs, one two-thread process 19–21 (docs/RESULTS.md).", DefaultValueFactory = _ => 1 };
        var valFraction = new Option<double>("--val-fraction") { Description = "Hold out this share of each class's training images as a validation split (e.g. 0.1; 0: none): the p-Models are fine-tuned on the rest and scored on it, and tina eval --zoo scores every method on it, so a zoo recipe is chosen by what a generator learns from it without the test split. With a generic model trained with --holdout, its held-out images are used.", DefaultValueFactory = _ => 0.0 };
        var shard = new Option<string?>("--shard") { Description = "Build only slice I/N of the task groups (one machine of N; e.g. 0/3), into its own --out folder; merge the slices with tina zoo merge." };
        var cmd = new Command("build", "Fine-tune one p-Model per task from the generic model; resumable (rerun to continue after a crash or kill).")
        {
            Datasets.DatasetOption, RecipeOption, GenericCommands.ArchOption, tasks, ood, epochs, group, lr, bodyLr, smoothing, l2sp, seed, classes, batchSize, views, unseen, valFraction, outDir, shard, processes,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var recipe = ChooseRecipe(r);
            var arch = recipe.Arch;
            var slice = r.GetValue(shard) is { } sliceText ? ZooSlice.Parse(sliceText) : null;
            // Bad options fail before anything is loaded.
            var options = new ZooBuildSettings
            {
                TrainTasks = r.GetValue(tasks), OodTasks = r.GetValue(ood), Epochs = r.GetValue(epochs), BatchSize = r.GetValue(batchSize), ModelsPerGroup = r.GetValue(group),
                LearningRate = r.GetValue(lr), ClassesPerTask = r.GetValue(classes) is { } classText ? ParseClassRange(classText) : null, Seed = r.GetValue(seed),
                LabelSmoothing = r.GetValue(smoothing), L2SP = r.GetValue(l2sp), BodyLearningRateScale = r.GetValue(bodyLr), AugmentedViews = r.GetValue(views),
                UnseenClassFraction = r.GetValue(unseen), ValidationFraction = r.GetValue(valFraction), Slice = slice,
            }.ToOptions(recipe);
            if (r.GetValue(processes) < 1) throw new TinaException($"--processes must be at least 1; got {r.GetValue(processes)}.");
            if (r.GetValue(processes) > 1 && slice is not null) throw new TinaException("--processes splits the build into slices itself; it cannot be combined with --shard.");
            CliContext.TorchDevice(r);
            var artifacts = CliContext.ArtifactsDir(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var genericPath = GenericModel.DefaultPath(artifacts, data.Name, arch);
            using var generic = GenericModel.Load(genericPath);
            int minClasses = options.MinClassesPerTask ?? options.ClassesPerTask, maxClasses = options.ClassesPerTask;
            var dir = Path.GetFullPath(r.GetValue(outDir) ?? DefaultDir(artifacts, data.Name, arch) + (slice is null ? "" : $"-slice{slice.Index}of{slice.Count}"));
            var counts = minClasses == maxClasses ? $"{maxClasses} classes" : $"{minClasses}-{maxClasses} classes";
            AnsiConsole.MarkupLine($"Building zoo [bold]{Markup.Escape(dir)}[/] (recipe {Markup.Escape(recipe.Name)}): {options.TrainTasks} train + {options.OodTasks} OOD tasks of {counts}, {arch.ToName()}, {options.FineTune.Epochs} epochs, {options.FineTune.ModelsPerGroup} at once{(slice is null ? "" : $"; slice {slice} of the task groups")}.");
            var builder = new ZooBuilder(generic, genericPath, data, options);
            // A finished zoo (or one started by a single process) is completed in this process.
            bool inProcesses = r.GetValue(processes) > 1 && !File.Exists(Path.Combine(dir, ZooManifest.FileName));
            if (r.GetValue(processes) > 1 && !inProcesses)
                AnsiConsole.MarkupLine("This zoo was started (or finished) by one process; it is completed in this process.");
            var manifest = inProcesses
                ? ZooProcesses.Run(r, cmd, [outDir, shard, processes], dir, r.GetValue(processes), options.TrainTasks + options.OodTasks, cancel)
                : ProgressView.Run($"zoo {arch.ToName()}", p => builder.Build(dir, new Sink(p), ChildProcess.StopWithParent(cancel)));
            Summarize(manifest);
            return 0;
        }));
        return cmd;
    }

    private static Command Merge()
    {
        var outDir = new Option<string>("--out") { Description = "Empty folder for the merged zoo.", Required = true };
        var slices = new Argument<string[]>("slices") { Description = "The slice folders (tina zoo build --shard I/N), all N of them.", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("merge", "Merge the slices of a zoo built on several machines (tina zoo build --shard I/N) into one zoo; refuses slices of different zoos or generic models, and unfinished or missing slices.")
        {
            outDir, slices,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var manifest = ZooMerge.Merge(r.GetValue(outDir)!, r.GetValue(slices)!);
            AnsiConsole.MarkupLine($"Merged {r.GetValue(slices)!.Length} slices into [bold]{Markup.Escape(Path.GetFullPath(r.GetValue(outDir)!))}[/].");
            Summarize(manifest);
            return 0;
        }));
        return cmd;
    }

    private static Command Tune()
    {
        var tasks = new Option<int>("--tasks") { Description = "Tasks fine-tuned with every recipe.", DefaultValueFactory = _ => 40 };
        var classes = new Option<string>("--classes") { Description = "Classes per task: N or MIN-MAX.", DefaultValueFactory = _ => "2-10" };
        var lr = new Option<string>("--lr") { Description = "Peak SGD learning rates to try.", DefaultValueFactory = _ => "0.05,0.2" };
        var epochs = new Option<string>("--epochs") { Description = "Fine-tuning epochs to try.", DefaultValueFactory = _ => "10,20" };
        var smoothing = new Option<string>("--label-smoothing") { Description = "Label smoothing values to try.", DefaultValueFactory = _ => "0,0.1" };
        var l2spList = new Option<string>("--l2-sp") { Description = "L2-SP strengths to try (0: off).", DefaultValueFactory = _ => "0" };
        var viewsList = new Option<string>("--augmented-views") { Description = "ResNet-20 heads: numbers of precomputed augmented views to try (0: un-augmented features).", DefaultValueFactory = _ => "0" };
        var fraction = new Option<double>("--val-fraction") { Description = "Fraction of each class's training images held out as the validation split (ignored when the generic model was trained with --holdout: its held-out images are used).", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the validation split and the tasks.", DefaultValueFactory = _ => 0 };
        var group = new Option<int?>("--group") { Description = "p-Models trained at once (default: the architecture's recipe's — 8 for cnn5k, 250 for heads)." };
        var cmd = new Command("tune", "Choose the stage-2 recipe on a validation split carved from the training images (never the test split): every combination of the given values fine-tunes the same tasks.")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, tasks, classes, lr, epochs, smoothing, l2spList, viewsList, fraction, seed, group,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var (minClasses, maxClasses) = ParseClassRange(r.GetValue(classes));
            var lrs = CliContext.ParseNumbers(r.GetValue(lr), "--lr");
            var eps = CliContext.ParsePositiveInts(r.GetValue(epochs), "--epochs");
            var lss = CliContext.ParseNumbers(r.GetValue(smoothing), "--label-smoothing");
            int[] vws = CliContext.ParseNumbers(r.GetValue(viewsList), "--augmented-views").Select(v => v >= 0 && v == Math.Floor(v) ? (int)v : throw new TinaException($"--augmented-views values must be whole numbers ≥ 0; got {v}.")).ToArray();
            if (lrs.Any(x => x == 0)) throw new TinaException("--lr values must be positive.");
            if (lss.Any(x => x >= 1)) throw new TinaException("--label-smoothing values must be below 1.");
            var sps = CliContext.ParseNumbers(r.GetValue(l2spList), "--l2-sp");
            if (r.GetValue(tasks) < 1) throw new TinaException("--tasks must be at least 1.");
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            int perGroup = r.GetValue(group) ?? Recipes.For(arch).Zoo.ModelsPerGroup;
            var recipes = (from v in vws from l in lrs from e in eps from s in lss from sp in sps
                           select new FineTuneOptions { LearningRate = l, Epochs = e, LabelSmoothing = s, L2SP = sp, ModelsPerGroup = perGroup, AugmentedViews = v }).ToList();
            AnsiConsole.MarkupLine($"Trying {recipes.Count} recipes on {r.GetValue(tasks)} tasks of {minClasses}-{maxClasses} classes, validation = {r.GetValue(fraction):P0} of each class's training images.");
            var result = ProgressView.Run("recipes", p => RecipeSearch.Run(generic, data, recipes, r.GetValue(tasks), minClasses, maxClasses, r.GetValue(fraction), r.GetValue(seed),
                new RecipeSink(p, recipes.Count), cancel));
            var table = new Table().Title($"validation p-Acc % ({result.Tasks.Count} tasks; classifier selection {result.ClassifierSelection:F2} %)")
                .AddColumn(new TableColumn("lr").RightAligned()).AddColumn(new TableColumn("epochs").RightAligned()).AddColumn(new TableColumn("label smoothing").RightAligned())
                .AddColumn(new TableColumn("L2-SP").RightAligned()).AddColumn(new TableColumn("views").RightAligned()).AddColumn(new TableColumn("p-Acc %").RightAligned()).AddColumn(new TableColumn("− CS").RightAligned()).AddColumn(new TableColumn("std").RightAligned()).AddColumn(new TableColumn("seconds").RightAligned());
            foreach (var t in result.Trials.OrderByDescending(t => t.PAcc))
                table.AddRow($"{t.Options.LearningRate}", $"{t.Options.Epochs}", $"{t.Options.LabelSmoothing}", $"{t.Options.L2SP}", $"{t.Options.AugmentedViews}", $"{t.PAcc:F2}", $"{t.PAcc - result.ClassifierSelection:+0.00;-0.00}", $"{t.Std:F2}", $"{t.Seconds:F0}");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(result.UnseenByGeneric
                ? $"Validation split: the {generic.Card.HoldoutFraction:P0} of each class's training images held out from stage 1 (the generic model never saw them)."
                : "[yellow]The generic model was trained on these validation images, which flatters classifier selection; train it with --holdout for an honest split (tina generic train --holdout 0.1).[/]");
            var best = result.Best.Options;
            AnsiConsole.MarkupLine($"Best: [bold]--lr {best.LearningRate} --epochs {best.Epochs} --label-smoothing {best.LabelSmoothing}{(best.L2SP > 0 ? $" --l2-sp {best.L2SP}" : "")}{(best.AugmentedViews > 0 ? $" --augmented-views {best.AugmentedViews}" : "")}[/] ({result.Best.PAcc - result.ClassifierSelection:+0.00;-0.00} points over classifier selection on validation).");
            return 0;
        }));
        return cmd;
    }

    private sealed class RecipeSink(IProgress<Step> p, int recipes) : IProgress<(int Recipe, double Fraction)>
    {
        public void Report((int Recipe, double Fraction) x) => p.Report(new Step((x.Recipe + x.Fraction) / recipes, $"recipe {x.Recipe + 1}/{recipes}"));
    }

    /// <summary>"10" → (10, 10); "2-10" → (2, 10).</summary>
    internal static (int Min, int Max) ParseClassRange(string? text)
    {
        var parts = (text ?? "").Split('-', StringSplitOptions.TrimEntries);
        bool ok = (parts.Length == 1 || parts.Length == 2) && parts.All(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _));
        int min = ok ? int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) : 0, max = ok ? int.Parse(parts[^1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (!ok || min < 2 || min > max) throw new TinaException($"--classes takes a class count N ≥ 2 or a range MIN-MAX with 2 ≤ MIN ≤ MAX (e.g. 10 or 2-10); got '{text}'.");
        return (min, max);
    }

    private static Command Show()
    {
        var dir = new Argument<string>("dir") { Description = "Zoo folder." };
        var cmd = new Command("show", "Summarize a zoo: tasks, finished p-Models, p-Acc by split.") { dir };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            Summarize(ZooManifest.Load(r.GetValue(dir)!));
            return 0;
        }));
        return cmd;
    }

    private static void Summarize(ZooManifest m)
    {
        var counts = m.ClassCounts();
        var title = $"zoo {m.Dataset} {m.Arch}: {m.Shards.Sum(s => s.Count)}/{m.Tasks.Count} p-Models, " + (counts.Count == 1 ? $"{counts[0]} classes each" : $"{counts[0]}-{counts[^1]} classes");
        var table = new Table().Title(title)
            .AddColumn("split").AddColumn(new TableColumn("p-Models").RightAligned()).AddColumn(new TableColumn(m.Validation is null ? "mean p-Acc %" : "mean val p-Acc %").RightAligned()).AddColumn(new TableColumn("std").RightAligned());
        foreach (var split in new[] { "train", "ood" })
        {
            var acc = m.Shards.SelectMany(s => s.PAcc.Select((a, i) => (a, t: m.Tasks[s.First + i]))).Where(p => p.t.Split == split).Select(p => p.a).ToList();
            if (acc.Count == 0) continue;
            double mean = acc.Average(), std = Math.Sqrt(acc.Select(a => (a - mean) * (a - mean)).Average());
            table.AddRow(split, acc.Count.ToString(), $"{mean:F2}", $"{std:F2}");
        }
        AnsiConsole.Write(table);
        if (m.Validation is { } v)
            AnsiConsole.MarkupLine($"Validation zoo: its p-Models were fine-tuned without, and are scored on, {Markup.Escape(v.ToString())}; tina eval --zoo scores every method on those images.");
    }

    private sealed class Sink(IProgress<Step> p) : IProgress<ZooProgress>
    {
        public void Report(ZooProgress z) => p.Report(new Step((z.Done + z.InProgress) / z.Total, $"{z.Done}/{z.Total} p-Models, {z.PerMinute:F1}/min, mean p-Acc {z.MeanPAcc:F1}%"));
    }
}
