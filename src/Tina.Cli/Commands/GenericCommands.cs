using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;

namespace Tina.Cli.Commands;

/// <summary><c>tina generic train|show</c>: stage 1, the generic model trained on all classes.</summary>
internal static class GenericCommands
{
    public static readonly Option<string> ArchOption = new("--arch")
    {
        Description = "p-Model architecture: resnet18, resnet20 or cnn5k.",
        DefaultValueFactory = _ => "cnn5k",
    };

    public static Command Create()
    {
        var cmd = new Command("generic", "Stage 1: the generic model trained on all classes of a dataset.");
        cmd.Subcommands.Add(Train());
        cmd.Subcommands.Add(Show());
        return cmd;
    }

    private static Command Train()
    {
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (default: the paper's 50; 10 for resnet18, whose head trains on fixed features)." };
        var holdout = new Option<double>("--holdout") { Description = "Share of every class's training images kept out of training, for tina zoo tune to validate on images the generic model never saw (e.g. 0.1; default 0).", DefaultValueFactory = _ => 0.0 };
        var batch = new Option<int>("--batch-size") { Description = "Mini-batch size.", DefaultValueFactory = _ => 128 };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd or adamw (default: sgd for resnet20, adamw for cnn5k)." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: sgd 0.1, adamw 0.01; adamw 0.001 for resnet18)." };
        var wd = new Option<double?>("--weight-decay") { Description = "Weight decay (default: sgd 5e-4, adamw 1e-4)." };
        var seed = new Option<int>("--seed") { Description = "Seed; the same seed gives the same weights.", DefaultValueFactory = _ => 1 };
        var force = new Option<bool>("--force") { Description = "Retrain even if a finished model exists." };
        var cmd = new Command("train", "Train the generic model (progress, per-epoch checkpoints; a killed run resumes).")
        {
            Datasets.DatasetOption, ArchOption, epochs, holdout, batch, optimizer, lr, wd, seed, force,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(ArchOption)!);
            var device = CliContext.TorchDevice(r);
            var artifacts = CliContext.ArtifactsDir(r);
            var dataset = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var basePath = GenericModel.DefaultPath(artifacts, dataset.Name, arch);
            if (File.Exists(basePath + ".json") && !r.GetValue(force))
            {
                using var existing = GenericModel.Load(basePath);
                AnsiConsole.MarkupLine($"Generic model already trained: [bold]{Markup.Escape(basePath)}[/] ({existing.Card.Epochs} epochs, test accuracy {existing.Card.TestAccuracy:F2} %). Use --force to retrain.");
                return 0;
            }
            var options = new GenericTrainingOptions
            {
                Arch = arch, Epochs = r.GetValue(epochs) ?? GenericTrainingOptions.DefaultEpochs(arch), BatchSize = r.GetValue(batch), Optimizer = r.GetValue(optimizer), HoldoutFraction = r.GetValue(holdout),
                LearningRate = r.GetValue(lr), WeightDecay = r.GetValue(wd), Seed = r.GetValue(seed), Device = device,
            };
            if (options.Epochs < 1) throw new TinaException("--epochs must be at least 1.");
            var ckpt = Path.Combine(artifacts, "checkpoints", $"generic-{dataset.Name}-{arch.ToName()}-s{options.Seed}");
            if (r.GetValue(force) && Directory.Exists(ckpt)) Directory.Delete(ckpt, recursive: true);
            AnsiConsole.MarkupLine($"Training generic [bold]{arch.ToName()}[/] on [bold]{dataset.Name}[/] ({dataset.Train.Count} images{(options.HoldoutFraction > 0 ? $", {options.HoldoutFraction:P0} of each class held out" : "")}, {dataset.NumClasses} classes), {options.Epochs} epochs, {options.OptimizerName} lr {options.Lr}.");
            var model = ProgressView.Run($"generic {arch.ToName()}", p =>
                new GenericTrainer(options, ckpt).Train(dataset, new Progress(p), cancel));
            model.Save(basePath);
            Directory.Delete(ckpt, recursive: true);
            AnsiConsole.MarkupLine($"Saved [bold]{Markup.Escape(basePath)}.safetensors[/] + .json — test accuracy ({model.Card.Classes.Count}-way) [bold]{model.Card.TestAccuracy:F2} %[/] in {model.Card.TrainSeconds:F0} s.");
            return 0;
        }));
        return cmd;
    }

    private static Command Show()
    {
        var cmd = new Command("show", "Print the card of a trained generic model.") { Datasets.DatasetOption, ArchOption };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var path = GenericModel.DefaultPath(CliContext.ArtifactsDir(r), r.GetValue(Datasets.DatasetOption)!, PModelArchNames.Parse(r.GetValue(ArchOption)!));
            using var m = GenericModel.Load(path);
            System.Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(m.Card with { Classes = [] }, GenericModel.Json));
            return 0;
        }));
        return cmd;
    }

    private sealed class Progress(IProgress<Step> sink) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            double f = ((p.Epoch - 1) + (double)p.Step / Math.Max(1, p.Steps)) / p.Epochs;
            sink.Report(new Step(f, p.Message ?? $"epoch {p.Epoch}/{p.Epochs} loss {p.Loss:F3} acc {p.Accuracy:F1}%"));
        }
    }
}
