using System.CommandLine;
using Microsoft.ML;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Diffusion;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Benchmarks;
using Tina.MLNet;
using Tina.MLNet.Generation.Text;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Tasks;
using Tina.Text;

namespace Tina.Cli.Commands;

/// <summary><c>tina train</c>, <c>tina generate</c> and <c>tina bench generate</c>: Tina's diffusion generator.</summary>
internal static class TinaCommands
{
    public static readonly Option<string?> GeneratorOption = new("--generator") { Description = "Tina checkpoint folder (written by tina train)." };

    /// <summary>Adds <c>train</c> and <c>generate</c> to <paramref name="root"/>, and <c>generate</c> to its <c>bench</c> command.</summary>
    public static void AddTo(RootCommand root)
    {
        root.Subcommands.Add(Train());
        root.Subcommands.Add(Generate());
        root.Subcommands.Add(Inspect());
        var bench = root.Subcommands.FirstOrDefault(c => c.Name == "bench");
        if (bench is null) root.Subcommands.Add(bench = new Command("bench", "Benchmarks (print a table)."));
        bench.Subcommands.Add(BenchGenerate());
    }

    /// <summary>The <c>tina train</c> options hidden from its help (research settings a recipe sets), with their values, as its description names them.</summary>
    public const string HiddenTrainOptions = "--normalize none|global|per-tensor, --loss-weighting uniform|per-tensor|classifier, --vary-classes P (default 0.5), --warmup-epochs N (5), --checkpoint-every N (1), --image-share S (0.5, with --image-shots)";

    public static string DefaultDir(string artifacts, string zooDir, string config) =>
        Path.Combine(artifacts, "tina", $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(zooDir)))}-{config.ToLowerInvariant()}");

    private static Command Train()
    {
        var zoo = new Option<string>("--zoo") { Description = "p-Model zoo folder (tina zoo build).", Required = true };
        var config = new Option<string?>("--config") { Description = "Transformer size: tiny, small (CPU), base (released CIFAR-100 config) or paper (default: the recipe's)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs over the zoo's training p-Models (paper: 300–400; default: the recipe's)." };
        var batch = new Option<int?>("--batch-size") { Description = "p-Models per step (default: the recipe's)." };
        var lr = new Option<double?>("--lr") { Description = "Peak AdamW learning rate (the paper: 4e-4; default: the recipe's)." };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed gives the same weights.", DefaultValueFactory = _ => 0 };
        var norm = new Option<string?>("--normalize") { Hidden = true, Description = "Parameter normalisation: none (released code), global (G.pt) or per-tensor (p-diff) (default: the recipe's)." };
        var weighting = new Option<string?>("--loss-weighting") { Hidden = true, Description = "uniform (the paper: plain MSE over all parameters), per-tensor (every tensor the same share of the loss) or classifier (other tensors weigh 0.01 per number) (default: the recipe's)." };
        var ablation = new Option<string?>("--ablation") { Description = $"The paper's ablations, comma-separated: {string.Join(", ", Ablations.Select(a => $"{a.Name} ({a.Description})"))}." };
        var vary = new Option<double>("--vary-classes") { Hidden = true, Description = "Probability of training a sample on a random prefix of its classes (sequence padding; default 0.5, 0 with --ablation no-sequence-padding).", DefaultValueFactory = _ => 0.5 };
        var promptKind = PromptKindOption("What the class tokens are conditioned on while training: names (default), descriptions (the dataset's built-in class descriptions, data/descriptions) or mixed (either, at random per class and step).");
        var trainTexts = new Option<string?>("--class-texts") { Description = "Encode some class names through other words: a file of 'class<TAB>text' lines (e.g. 'gerenuk<TAB>long-necked antelope' for a name the text encoder does not know); prompts keep using the names." };
        var init = new Option<string?>("--init") { Description = "Start from this generator's (EMA) weights instead of a fresh initialisation: a short fine-tune, e.g. with --image-shots." };
        var imageShots = new Option<int>("--image-shots") { Description = "Few-shot image prompts: condition a share of the class slots on K of the class's training images (through --projector) instead of its name; 0 = text only.", DefaultValueFactory = _ => 0 };
        var imageShare = new Option<double>("--image-share") { Hidden = true, Description = "Share of class slots shown by images with --image-shots.", DefaultValueFactory = _ => 0.5 };
        var warmup = new Option<int>("--warmup-epochs") { Hidden = true, Description = "Epochs of linear learning-rate warm-up before the cosine decay.", DefaultValueFactory = _ => 5 };
        var every = new Option<int>("--checkpoint-every") { Hidden = true, Description = "Commit a checkpoint every N epochs (and after the last).", DefaultValueFactory = _ => 1 };
        var outDir = new Option<string?>("--out") { Description = "Checkpoint folder (default: ARTIFACTS/tina/ZOO-CONFIG); rerun the same command to resume." };
        // Research settings that the recipe sets are hidden from --help (which fits one screen) but still accepted; the
        // description names them.
        var cmd = new Command("train", $"Train Tina's text-conditioned diffusion transformer on a zoo with a recipe's settings; resumable (rerun to continue after a crash or kill). Research settings, not listed below, default to the recipe's: {HiddenTrainOptions}.")
        {
            zoo, ZooCommands.RecipeOption, config, epochs, batch, lr, seed, norm, weighting, ablation, vary, promptKind, trainTexts, init, imageShots, imageShare, ImagePromptCommands.ProjectorOption, warmup, every, outDir, TextCommands.EncoderOption, TextCommands.ClipModelOption, TextCommands.MergesOption,
        };
        // The options laid over the recipe's (bad values fail before anything is read).
        TinaTrainingOptions OptionsOf(ParseResult r, TinaTrainingOptions defaults)
        {
            var ablations = ParseAblations(r.GetValue(ablation));
            var prompts = ParsePromptKind(r.GetValue(promptKind)!);
            bool noPadding = ablations.Contains(Ablation.NoSequencePadding);
            return (defaults with
            {
                ConfigName = r.GetValue(config) ?? defaults.ConfigName, Epochs = r.GetValue(epochs) ?? defaults.Epochs, BatchSize = r.GetValue(batch) ?? defaults.BatchSize,
                LearningRate = r.GetValue(lr) ?? defaults.LearningRate,
                Normalization = r.GetValue(norm) is { } normName ? ParseNormalization(normName) : defaults.Normalization,
                LossWeighting = r.GetValue(weighting) is { } weightingName ? ParseLossWeighting(weightingName) : defaults.LossWeighting,
                Tokens = TokensOf(ablations, defaults.Tokens),
                Seed = r.GetValue(seed), ClassifierAugmentation = !ablations.Contains(Ablation.NoAugmentation), NeuronPermutation = ablations.Contains(Ablation.NeuronPermutation), CheckpointEvery = r.GetValue(every),
                Prompts = prompts,
                // Without padding the default prefix probability becomes 0; an explicit --vary-classes above 0 is refused by Validate.
                VaryClassCountProbability = noPadding && r.GetResult(vary) is null or { Implicit: true } ? 0 : r.GetValue(vary),
                ClassificationSequencePadding = !noPadding,
                WarmupEpochs = r.GetValue(warmup), InitFrom = r.GetValue(init) is { } from ? Path.GetFullPath(from) : null,
                ImagePromptShots = r.GetValue(imageShots), ImagePromptShare = r.GetValue(imageShare),
                ClassTexts = r.GetValue(trainTexts) is { } textsPath ? Tina.Text.ClassTextsFile.Read(textsPath) : null,
                // The recipe's start applies to class-name prompts; descriptions and image prompts generate the rows themselves.
                Start = ablations.Contains(Ablation.NoStart) || prompts != PromptKind.Names || r.GetValue(imageShots) > 0 ? RowStart.None : defaults.Start,
                TaskMixup = ablations.Contains(Ablation.NoMixup) ? 0 : defaults.TaskMixup,
                Device = CliContext.TorchDevice(r),
            }).Validate();
        }
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            // Bad values fail before anything is read.
            ParseAblations(r.GetValue(ablation));
            ParsePromptKind(r.GetValue(promptKind)!);
            if (r.GetValue(norm) is { } normName) ParseNormalization(normName);
            if (r.GetValue(weighting) is { } weightingName) ParseLossWeighting(weightingName);
            CliContext.TorchDevice(r);
            var artifacts = CliContext.ArtifactsDir(r);
            using var setup = TinaTrainingSetup.Open(r.GetValue(zoo)!, r.GetValue(ZooCommands.RecipeOption));
            var options = OptionsOf(r, setup.Defaults);
            var dir = Path.GetFullPath(r.GetValue(outDir) ?? DefaultDir(artifacts, setup.ZooDir, options.ConfigName));
            using var encoder = TextCommands.Open(r);
            var cache = new EmbeddingCache(EmbeddingCache.DefaultPath(artifacts));
            if (options.ImagePromptShots > 0)
            {
                var projectorPath = r.GetValue(ImagePromptCommands.ProjectorOption) ?? ImagePromptCommands.DefaultPath(artifacts, setup.Manifest.Dataset, setup.Manifest.Arch);
                var data = Datasets.Open(r, setup.Manifest.Dataset);
                ProgressView.Run("project images", _ => setup.LoadImagePrompts(projectorPath, encoder.Id, data));
            }
            else if (r.GetResult(imageShare) is { Implicit: false })
                throw new TinaException("--image-share needs --image-shots K.");
            AnsiConsole.MarkupLine($"Training Tina [bold]{Markup.Escape(options.ConfigName)}[/] on [bold]{Markup.Escape(setup.ZooDir)}[/] → {Markup.Escape(dir)} (recipe {Markup.Escape(setup.Recipe.Name)}, {options.Tokens.ToName()} tokens{(options.Start == RowStart.TextToRows ? ", rows from text-to-rows" : "")}{(options.TaskMixup > 0 ? $", task mixup {options.TaskMixup}" : "")}, {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate}, {Markup.Escape(encoder.Id)}, {options.Device}).");
            var result = ProgressView.Run("tina train", p => setup.Train(options, encoder, cache, dir, new Sink(p), cancel));
            PrintLosses(result, options.ConfigName, dir);
            return 0;
        }));
        return cmd;
    }

    /// <summary>The loss table of a finished <c>tina train</c> (first, last and every tenth epoch) and where the curve is.</summary>
    private static void PrintLosses(TinaTrainingResult result, string config, string dir)
    {
        var table = new Table().Title($"Tina {config}: loss per epoch ({result.Seconds / 60:F1} min)").AddColumn(new TableColumn("epoch").RightAligned()).AddColumn(new TableColumn("loss").RightAligned());
        var losses = result.EpochLoss;
        foreach (var i in Enumerable.Range(0, losses.Count).Where(i => i < 3 || i >= losses.Count - 3 || (i + 1) % Math.Max(1, losses.Count / 10) == 0))
            table.AddRow((i + 1).ToString(), $"{losses[i]:F5}");
        AnsiConsole.Write(table);
        var csv = Path.Combine(dir, TinaCheckpoint.LossFile);
        var png = Path.ChangeExtension(csv, ".png");
        AnsiConsole.MarkupLine($"Checkpoint [bold]{Markup.Escape(dir)}[/] (loss per epoch: {Markup.Escape(csv)}{(Charts.TryLoss(csv, png) ? ", " + Markup.Escape(png) : "")}).");
    }

    private static Command Generate()
    {
        var prompt = new Option<string?>("--prompt") { Description = $"Class names in output order, {CliContext.ClassListFormat}, e.g. \"apple, pear, orange\"." };
        var promptFile = new Option<string?>("--prompt-file") { Description = "Instead of --prompt: a text file with one class per line, in output order — a name, a free-text description, or 'name: description' (a description alone is labelled classN)." };
        var imagePrompts = new Option<string?>("--image-prompts") { Description = "Instead of --prompt: a folder of example images, one subfolder per class (label = folder name) or one image per class (label = file name); classes sorted by label; needs a projector (tina image-prompts fit)." };
        var output = new Option<string>("--out") { Description = "ONNX file to write.", Required = true };
        var mlnet = new Option<string?>("--mlnet") { Description = "Also write a savable ML.NET model (.zip) that reads image file paths." };
        var sampler = SamplerOption();
        var steps = new Option<int?>("--steps") { Description = "Sampling steps (default: ddim, the generator's recipe's — 50, 2 for resnet18 heads; ddpm 1000)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the sampling noise; the same seed gives the same weights.", DefaultValueFactory = _ => 0 };
        var raw = new Option<bool>("--raw") { Description = "Sample with the raw weights instead of the EMA weights." };
        var ensemble = EnsembleOption();
        var cmd = new Command("generate", "Generate a personalized classifier from a class list with a trained Tina, as ONNX (and optionally an ML.NET zip).")
        {
            GeneratorOption, prompt, promptFile, imagePrompts, ImagePromptCommands.ProjectorOption, ImagePromptCommands.ClipImageModelOption, output, mlnet, FormatOption, sampler, steps, seed, raw, ensemble, TextCommands.ClipModelOption,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            // First: a bad prompt fails before anything is loaded.
            if (new[] { r.GetValue(prompt), r.GetValue(promptFile), r.GetValue(imagePrompts) }.Count(x => x is not null) != 1)
                throw new TinaException("Give the classes with one of --prompt \"apple, pear\", --prompt-file FILE or --image-prompts DIR.");
            if (r.GetValue(ImagePromptCommands.ClipImageModelOption) is not null && r.GetValue(imagePrompts) is null)
                throw new TinaException("--clip-image-model embeds --image-prompts; give the images with --image-prompts DIR.");
            var classes = r.GetValue(promptFile) is { } file ? ClassPromptFile.Read(file)
                : r.GetValue(prompt) is { } text ? ClassPrompt.OfNames(ClassList.Parse(text)) : null;
            int k = CheckEnsemble(r.GetValue(ensemble));
            var device = CliContext.TorchDevice(r);
            using var gen = OpenGenerator(r, RequireGenerator(r), r.GetValue(TextCommands.ClipModelOption), device);
            var options = new GenerateOptions { Sampler = ParseSampler(r.GetValue(sampler)!), Steps = r.GetValue(steps), Seed = r.GetValue(seed), UseEma = !r.GetValue(raw), EnsembleSize = k };
            classes ??= ImagePrompts(r, gen, r.GetValue(imagePrompts)!);
            var generated = TinaGeneratedClassifier.Generate(gen, classes, options, ClassifierFormats.Parse(r.GetValue(FormatOption)!));
            var models = generated.Models;
            var path = Path.GetFullPath(r.GetValue(output)!);
            AtomicFile.WriteAllBytes(path, generated.Onnx);
            var what = k == 1 ? "" : $" ensemble of {k} (mean softmax; member seeds {string.Join(", ", models.Seeds!)}),";
            AnsiConsole.MarkupLine($"Generated in {generated.Elapsed.TotalMilliseconds:F0} ms ({Markup.Escape(generated.Method)}); wrote [bold]{Markup.Escape(path)}[/] ({generated.Onnx.Length / 1024.0:F1} KB): {models.Arch.ToName()},{Markup.Escape(what)} {models.Labels.Count} classes: {Markup.Escape(generated.Prompt)}");
            if (r.GetValue(mlnet) is { } zip)
            {
                var ml = new MLContext(seed: 0);
                TinaMLNetModel.Save(ml, generated.ToMLNet(ml), Path.GetFullPath(zip));
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(Path.GetFullPath(zip))}[/] ({MLNetChainText(generated.Format)}; input column ImagePath)");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The paper's ablations that <c>tina train --ablation</c> takes.</summary>
    private enum Ablation { NoAugmentation, NeuronPermutation, NoSequencePadding, MergedTextToken, Rows, Chunks, NoStart, NoMixup }

    private static readonly (Ablation Value, string Name, string Description)[] Ablations =
    [
        (Ablation.NoAugmentation, "no-augmentation", "classifier augmentation off"),
        (Ablation.NeuronPermutation, "neuron-permutation", "G.pt's neuron-permutation augmentation, CNN-5K only; the paper finds it hurts"),
        (Ablation.NoSequencePadding, "no-sequence-padding", "train only on the zoo's 10-class tasks, so shorter prompts use a padding token the generator has not learned"),
        (Ablation.MergedTextToken, "merged-text-token", "TAPER's design: one text token, the mean of the class embeddings, on the rows layout (or chunks)"),
        (Ablation.Rows, "rows", "the paper's per-slot layout: one token per classifier row with its own coders, separate class tokens"),
        (Ablation.Chunks, "chunks", "the paper's tokenization: fc.weight in chunks like every tensor"),
        (Ablation.NoStart, "no-start", "generate the rows themselves, as the paper does, not their difference from text-to-rows"),
        (Ablation.NoMixup, "no-mixup", "no task mixup: train on the zoo's (prompt, p-Model) pairs only, as the paper does"),
    ];

    private static HashSet<Ablation> ParseAblations(string? text)
    {
        var set = new HashSet<Ablation>();
        foreach (var item in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            set.Add(Ablations.FirstOrDefault(a => a.Name.Equals(item, StringComparison.OrdinalIgnoreCase)) is { Name: not null } a ? a.Value
                : throw new TinaException($"Unknown ablation '{item}'. Use {string.Join(", ", Ablations.Select(x => x.Name))}."));
        if (set.Contains(Ablation.Rows) && set.Contains(Ablation.Chunks)) throw new TinaException("--ablation rows and chunks are two layouts; give one.");
        return set;
    }

    /// <summary>The token layout of <paramref name="ablations"/> (the recipe's, <paramref name="recipe"/>, when they name none).</summary>
    private static TokenLayout TokensOf(HashSet<Ablation> ablations, TokenLayout recipe)
    {
        bool chunks = ablations.Contains(Ablation.Chunks);
        if (ablations.Contains(Ablation.MergedTextToken)) return chunks ? TokenLayout.MergedTextChunks : TokenLayout.MergedTextRows;
        return chunks ? TokenLayout.Chunks : ablations.Contains(Ablation.Rows) ? TokenLayout.ClassifierRows : recipe;
    }

    private static LossWeighting ParseLossWeighting(string name) => name.Trim().ToLowerInvariant() switch
    {
        "uniform" => LossWeighting.Uniform,
        "per-tensor" or "pertensor" => LossWeighting.PerTensor,
        "classifier" => LossWeighting.Classifier,
        var x => throw new TinaException($"Unknown loss weighting '{x}'. Use uniform, per-tensor or classifier."),
    };

    private static ParameterNormalization ParseNormalization(string name) => name.Trim().ToLowerInvariant() switch
    {
        "none" => ParameterNormalization.None,
        "global" or "globalscale" => ParameterNormalization.GlobalScale,
        "per-tensor" or "pertensor" => ParameterNormalization.PerTensor,
        var x => throw new TinaException($"Unknown normalisation '{x}'. Use none, global or per-tensor."),
    };

    /// <summary><c>--format onnx|head</c>: the whole classifier in one ONNX file, or a resnet18 classifier's head alone.</summary>
    public static readonly Option<string> FormatOption = new("--format")
    {
        Description = "onnx: backbone and head in one file (default); head: a resnet18 classifier's head alone (a few KB, input: ML.NET's ResNet-18 features), for apps that already run the backbone.",
        DefaultValueFactory = _ => "onnx",
    };

    /// <summary>The transforms of the ML.NET chain of a classifier in <paramref name="format"/>, for messages.</summary>
    public static string MLNetChainText(ClassifierFormat format) => format == ClassifierFormat.Head
        ? "ML.NET: LoadImages → ResizeImages 224 → ExtractPixels → ResNet-18 (the package's preprocessing + ResNet18.onnx) → ApplyOnnxModel (head) → MapValue"
        : "ML.NET: LoadImages → ResizeImages → ExtractPixels → ApplyOnnxModel → MapValue";

    private static Command Inspect()
    {
        var zoo = new Option<string>("--zoo") { Description = "The zoo the generator was trained on.", Required = true };
        var tasks = new Option<int>("--tasks") { Description = "Tasks generated per split (the zoo's first ones).", DefaultValueFactory = _ => 30 };
        var sampler = SamplerOption();
        var steps = new Option<int?>("--steps") { Description = "Sampling steps (default: ddim 50, ddpm 1000)." };
        var cmd = new Command("inspect", "Does a generator follow the prompt? Generated classifier rows vs the zoo's rows of the same classes, training and held-out tasks.")
        {
            GeneratorOption, zoo, tasks, sampler, steps,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            int n = r.GetValue(tasks);
            if (n < 1) throw new TinaException($"--tasks must be at least 1; got {n}.");
            var zooDir = Path.GetFullPath(r.GetValue(zoo)!);
            var entries = Tina.Zoo.ZooReader.ReadAll(zooDir, out var manifest);
            var training = entries.Where(e => e.Task.Split == "train").ToList();
            if (training.Count == 0) throw new TinaException($"The zoo {zooDir} has no finished training p-Models.");
            using var gen = TinaGenerator.Load(RequireGenerator(r), device: CliContext.TorchDevice(r));
            if (gen.Arch.ToName() != manifest.Arch) throw new TinaException($"The generator makes {gen.Arch.ToName()} p-Models; the zoo holds {manifest.Arch}.");
            var options = new GenerateOptions { Sampler = ParseSampler(r.GetValue(sampler)!), Steps = r.GetValue(steps) };
            var table = new Table().Title($"Prompt following, {Markup.Escape(options.Describe())}: generated rows vs the zoo's ({Markup.Escape(Path.GetFileName(zooDir))})")
                .AddColumn("tasks").AddColumn(new TableColumn("rows").RightAligned()).AddColumn(new TableColumn("rows nearest their class's mean row").RightAligned())
                .AddColumn(new TableColumn("chance").RightAligned()).AddColumn(new TableColumn("row correlation").RightAligned()).AddColumn(new TableColumn("body correlation").RightAligned());
            foreach (var (label, split) in new[] { ("ID", "train"), ("OOD", "ood") })
            {
                var probe = entries.Where(e => e.Task.Split == split).Take(n).ToList();
                if (probe.Count == 0) continue;
                var rep = PromptFollowing.Measure(gen, training, probe, options);
                table.AddRow($"{label} ({rep.Tasks})", rep.Rows.ToString(), $"{rep.RowsNearestTheirClass} ({100 * rep.HitRate:F1} %)", $"{100.0 / rep.Classes:F1} %",
                    $"{rep.MeanRowCorrelation:F3}", rep.BodyCorrelation is { } b ? $"{b:F4}" : "–");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }

    private static Command BenchGenerate()
    {
        var runs = new Option<int>("--runs") { Description = "Timed DDIM runs (after one warm-up).", DefaultValueFactory = _ => 20 };
        var ddpmRuns = new Option<int>("--ddpm-runs") { Description = "Timed DDPM-1000 runs (0 to skip).", DefaultValueFactory = _ => 1 };
        var steps = new Option<string>("--steps") { Description = "DDIM step counts, comma-separated: one table row each (e.g. 50,20,10).", DefaultValueFactory = _ => "50" };
        var prompt = new Option<string?>("--prompt") { Description = $"Class names, {CliContext.ClassListFormat} (default: the first 10 class names of the training zoo)." };
        var ensemble = EnsembleOption();
        var cmd = new Command("generate", "Time prompt → ONNX bytes with a trained Tina: p50/p90 ms for DDIM and DDPM-1000 (resnet18: the head alone and the one-file classifier), against the transformer's compute floor.")
        {
            GeneratorOption, runs, ddpmRuns, steps, prompt, ensemble, TextCommands.ClipModelOption,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            int k = CheckEnsemble(r.GetValue(ensemble));
            var ddimSteps = CliContext.ParsePositiveInts(r.GetValue(steps), "--steps");
            var given = r.GetValue(prompt) is { } p ? ClassList.Parse(p) : null;
            var device = CliContext.TorchDevice(r);
            using var gen = OpenGenerator(r, RequireGenerator(r), r.GetValue(TextCommands.ClipModelOption), device);
            var state = gen.State;
            IReadOnlyList<string> classes = given ?? ClassList.Parse(state.TextNames[..^1].Take(state.Config.MaxClasses));
            var result = GenerationBenchmark.Run(gen, classes, new GenerationBenchmarkOptions { DdimSteps = ddimSteps, DdimRuns = r.GetValue(runs), DdpmRuns = r.GetValue(ddpmRuns), EnsembleSize = k }, cancel);
            // Two short lines, not one long title: Spectre wraps a title wider than the console mid-phrase.
            var table = new Table().Title($"Tina prompt → ONNX bytes, {state.Arch}, {classes.Count} classes{(k == 1 ? "" : $", ensemble of {k}")}")
                .Caption($"generator {state.Config.HiddenSize}-d × {state.Config.Layers} layers on {device}")
                .AddColumn("sampler").AddColumn("output").AddColumn(new TableColumn("runs").RightAligned()).AddColumn(new TableColumn("p50 ms").RightAligned())
                .AddColumn(new TableColumn("p90 ms").RightAligned()).AddColumn(new TableColumn("floor ms").RightAligned()).AddColumn(new TableColumn("ONNX bytes").RightAligned());
            foreach (var row in result.Rows)
                table.AddRow($"{row.Sampler.ToString().ToUpperInvariant()}-{row.Steps}", row.Format == ClassifierFormat.Head ? "head" : "one file", row.Runs.ToString(),
                    $"{row.P50Milliseconds:F1}", $"{row.P90Milliseconds:F1}", $"{row.FloorMilliseconds:F2}", row.OnnxBytes.ToString("N0"));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"Floor: the transformer's forward passes only ({result.StepFlops / 1e6:F1} MFLOP per step) at {result.MatmulFlops / 1e9:F0} GFLOP/s measured on 512×512 float matrix products; {Tina.Runtime.TorchRuntime.Threads} threads on {Environment.ProcessorCount} cores.");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The <c>--ensemble</c> option: seed-ensemble size K.</summary>
    /// <summary>The classes of an image-prompt folder, embedded by the projector (checked against the generator's text encoder).</summary>
    private static IReadOnlyList<ClassPrompt> ImagePrompts(ParseResult r, TinaGenerator gen, string dir)
    {
        if (r.GetValue(ImagePromptCommands.ClipImageModelOption) is { } clipImage)
        {
            // CLIP's own image tower: the images land in the space of the CLIP text the generator was trained on.
            if (!gen.State.TextEncoderId.StartsWith("clip-", StringComparison.Ordinal))
                throw new TinaException($"--clip-image-model needs a generator trained on CLIP text (--encoder clip); this one was trained with {gen.State.TextEncoderId}. Use --projector instead.");
            using var clip = new ClipImageEncoder(clipImage);
            return ImagePromptCommands.ReadFolder(dir, images =>
            {
                var v = clip.Embed(images);
                return v.Length == gen.State.Config.TextDim ? v
                    : throw new TinaException($"The CLIP image model gives {v.Length}-d embeddings; the generator's text embeddings are {gen.State.Config.TextDim}-d. Use the image tower of the same CLIP.");
            });
        }
        var artifacts = CliContext.ArtifactsDir(r);
        var projector = Tina.ImagePrompts.ImagePromptProjector.Load(r.GetValue(ImagePromptCommands.ProjectorOption)
            ?? ImagePromptCommands.DefaultPath(artifacts, gen.State.Dataset, gen.State.Arch)).RequireEncoder(gen.State.TextEncoderId, "the generator");
        using var generic = Tina.Generic.GenericModel.Load(projector.GenericModel);
        return ImagePromptCommands.ReadFolder(dir, images => projector.Embed(generic, images));
    }

    /// <summary>A <c>--prompt-kind</c> option (names, descriptions or mixed).</summary>
    public static Option<string> PromptKindOption(string description) => new("--prompt-kind") { Description = description, DefaultValueFactory = _ => "names" };

    /// <summary>Parses a <c>--prompt-kind</c> value.</summary>
    public static PromptKind ParsePromptKind(string value) => value.Trim().ToLowerInvariant() switch
    {
        "names" or "name" => PromptKind.Names,
        "descriptions" or "description" => PromptKind.Descriptions,
        "mixed" => PromptKind.Mixed,
        var x => throw new TinaException($"Unknown prompt kind '{x}'. Use names, descriptions or mixed."),
    };

    public static Option<int> EnsembleOption() => new("--ensemble")
    {
        Description = $"Seed ensemble: sample K p-Models per prompt (seeds derived from --seed) in one batched run and average their softmax (1 to {PModelEnsemble.MaxMembers}; 1 = a single p-Model).",
        DefaultValueFactory = _ => 1,
    };

    /// <summary>Returns <paramref name="k"/> when it is a valid ensemble size; otherwise a user error naming it.</summary>
    public static int CheckEnsemble(int k) => k is >= 1 and <= PModelEnsemble.MaxMembers
        ? k
        : throw new TinaException($"--ensemble must be 1 to {PModelEnsemble.MaxMembers}; got {k}.");

    /// <summary>The <c>--sampler</c> option (ddim or ddpm).</summary>
    public static Option<string> SamplerOption() => new("--sampler") { Description = "ddim (deterministic, fast) or ddpm (the paper's ancestral sampler).", DefaultValueFactory = _ => "ddim" };

    public static DiffusionSampler ParseSampler(string name) => name.Trim().ToLowerInvariant() switch
    {
        "ddim" => DiffusionSampler.Ddim,
        "ddpm" => DiffusionSampler.Ddpm,
        _ => throw new TinaException($"Unknown sampler '{name}'. Use ddim or ddpm."),
    };

    public static string RequireGenerator(ParseResult r) =>
        r.GetValue(GeneratorOption) ?? throw new TinaException("Give the Tina checkpoint folder: --generator DIR (written by tina train).");

    /// <summary>
    /// Loads the generator in <paramref name="checkpointDir"/>; it opens its own text encoder (GloVe from
    /// <c>--artifacts</c>, downloaded there when missing; CLIP from <paramref name="clipModel"/>; MiniLM from its
    /// package) only if a prompt needs it.
    /// </summary>
    public static TinaGenerator OpenGenerator(ParseResult r, string checkpointDir, string? clipModel, TorchSharp.torch.Device device) =>
        TinaGenerator.Load(checkpointDir, TextEncoders.Opener(CliContext.EncoderOptions(r, clipModel)), device);

    private sealed class Sink(IProgress<Step> p) : IProgress<TinaTrainingProgress>
    {
        public void Report(TinaTrainingProgress t) => p.Report(new Step(t.Fraction,
            t.Message ?? $"epoch {t.Epoch}/{t.Epochs} step {t.Step}/{t.Steps} loss {t.Loss:F5}"));
    }
}
