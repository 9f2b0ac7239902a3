using System.CommandLine;
using Microsoft.ML;
using Spectre.Console;
using Tina.Generic;
using Tina.IO;
using Tina.MLNet.Export;
using Tina.MLNet;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary><c>tina export</c>: a personalized classifier for a class list, as ONNX (and optionally an ML.NET zip).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var method = new Option<string>("--method") { Description = "How to personalize: classifier-selection (the paper's strong baseline).", DefaultValueFactory = _ => "classifier-selection" };
        var classes = new Option<string>("--classes") { Description = $"Class names in output order, {CliContext.ClassListFormat}, e.g. \"apple, pear, orange\".", Required = true };
        var output = new Option<string>("--out") { Description = "ONNX file to write.", Required = true };
        var mlnet = new Option<string?>("--mlnet") { Description = "Also write a savable ML.NET model (.zip) that reads image file paths." };
        var cmd = new Command("export", "Export a personalized classifier for the given classes as ONNX (input image [N,3,S,S] in [0,1], S = 32, or 224 for resnet18; outputs scores, class_index).")
        {
            method, Datasets.DatasetOption, GenericCommands.ArchOption, classes, output, mlnet, TinaCommands.FormatOption,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var m = r.GetValue(method)!.Trim().ToLowerInvariant();
            if (m != "classifier-selection") throw new TinaException($"Unknown method '{m}'. Available: classifier-selection.");
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var names = ClassList.Parse(r.GetValue(classes));   // before the dataset is decoded: a bad list fails at once
            var format = ClassifierFormats.Parse(r.GetValue(TinaCommands.FormatOption)!);
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var task = ClassifierSelectionTask(data, names);
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            var pmodel = ClassifierSelection.Create(generic, task);
            var path = Path.GetFullPath(r.GetValue(output)!);
            var onnx = format == ClassifierFormat.Head ? OnnxExporter.ExportHead(new PModelEnsemble([pmodel]), task.Prompt, m) : OnnxExporter.Export(pmodel, task.Prompt, m);
            AtomicFile.WriteAllBytes(path, onnx);
            AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/] ({onnx.Length / 1024.0:F1} KB): {arch.ToName()}, {task.Count} classes: {Markup.Escape(task.Prompt)}");
            if (r.GetValue(mlnet) is { } zip)
            {
                var ml = new MLContext(seed: 0);
                var model = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = onnx })
                    .Fit(TinaMLNetModel.EmptyInput(ml));
                TinaMLNetModel.Save(ml, model, Path.GetFullPath(zip));
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(Path.GetFullPath(zip))}[/] ({TinaCommands.MLNetChainText(format)}; input column ImagePath)");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// The task of <paramref name="names"/> for classifier selection, which has a row only for the dataset's classes: a
    /// word it lacks is named, with the way to a classifier for any words (Tina).
    /// </summary>
    public static PersonalizationTask ClassifierSelectionTask(Tina.Data.ImageDataset data, IReadOnlyList<string> names)
    {
        try
        {
            return PersonalizationTask.FromNames(data, names, data.NumClasses);
        }
        catch (InvalidPromptException e) when (e.Message.StartsWith("Unknown class", StringComparison.Ordinal))
        {
            throw new InvalidPromptException($"{e.Message} Classifier selection has a trained row only for the {data.NumClasses} classes of {data.Name}; " +
                "Tina makes a classifier from any words: tina generate --generator CKPT --prompt \"...\" (or tina new --generator CKPT, --method tina).");
        }
    }
}
