using System.CommandLine;
using Microsoft.ML;
using Spectre.Console;
using Tina.Evaluation;
using Tina.Evaluation.Plan;
using Tina.Generic;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Export;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary><c>tina export</c>: a personalized classifier for a class list, as ONNX (and optionally an ML.NET zip).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var method = new Option<string>("--method")
        {
            Description = "How to personalize, as tina eval names it: classifier-selection (the paper's strong baseline: the generic model's rows of the dataset's classes) " +
                "or text-to-rows (any words: each row predicted from the class's --encoder embedding by a map fitted on all the generic model's rows; resnet20 or resnet18). " +
                "The tina methods are tina generate; eval's other methods make no p-Model of a new class list.",
            DefaultValueFactory = _ => "classifier-selection",
        };
        var classes = new Option<string>("--classes") { Description = $"Class names in output order, {CliContext.ClassListFormat}, e.g. \"apple, pear, orange\".", Required = true };
        var output = new Option<string>("--out") { Description = "ONNX file to write.", Required = true };
        var mlnet = new Option<string?>("--mlnet") { Description = "Also write a savable ML.NET model (.zip) that reads image file paths." };
        var cmd = new Command("export", "Export a personalized classifier for the given classes as ONNX (input image [N,3,S,S] in [0,1], S = 32, or 224 for resnet18; outputs scores, class_index).")
        {
            method, Datasets.DatasetOption, GenericCommands.ArchOption, classes, output, mlnet, TinaCommands.FormatOption,
            TextCommands.EncoderOption, TextCommands.ClipModelOption, TextCommands.MergesOption,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var m = CheckMethod(r.GetValue(method)!);
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var names = ClassList.Parse(r.GetValue(classes));   // before the dataset is decoded: a bad list fails at once
            var format = ClassifierFormats.Parse(r.GetValue(TinaCommands.FormatOption)!);
            CliContext.TorchDevice(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var task = m == TextToRowsMethod.MethodName ? null : ClassifierSelectionTask(data, names);   // text-to-rows takes any words
            using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
            var pmodel = task is null ? TextToRowsModel(r, generic, data, names) : ClassifierSelection.Create(generic, task);
            var prompt = string.Join(", ", pmodel.Labels);
            var path = Path.GetFullPath(r.GetValue(output)!);
            var onnx = format == ClassifierFormat.Head ? OnnxExporter.ExportHead(new PModelEnsemble([pmodel]), prompt, m) : OnnxExporter.Export(pmodel, prompt, m);
            AtomicFile.WriteAllBytes(path, onnx);
            AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/] ({onnx.Length / 1024.0:F1} KB): {arch.ToName()}, {pmodel.Labels.Count} classes: {Markup.Escape(prompt)}");
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
    /// The method, when export makes its p-Model: classifier-selection or text-to-rows. Of tina eval's other names, the
    /// tina methods are what <c>tina generate</c> writes, and generic, finetune, taper-mixer and the splices make no
    /// p-Model of a new class list (the generic model has every class; fine-tuned p-Models exist for a zoo's tasks only;
    /// TAPER-Mixer is trained on a zoo first), so they are named with the reason.
    /// </summary>
    private static string CheckMethod(string given)
    {
        var m = given.Trim().ToLowerInvariant();
        if (m is "classifier-selection" or TextToRowsMethod.MethodName) return m;
        if (EvaluationMethodRegistry.CreateDefault().Resolve(m) is not { } known)
            throw new TinaException($"Unknown method '{m}'. Available: classifier-selection, text-to-rows.");
        throw new TinaException(known.UsesGenerator && known is not SpliceEvaluationMethod
            ? $"'{m}' p-Models are generated: tina generate --generator CKPT --prompt \"...\" (or tina new --generator CKPT)."
            : $"'{m}' is scored by tina eval but makes no p-Model of a new class list; export takes classifier-selection or text-to-rows.");
    }

    /// <summary>
    /// The text-to-rows p-Model of <paramref name="names"/> (any words): the map is fitted on all of the generic model's
    /// rows, with the dataset's class names embedded by --encoder, as tina eval fits it without a zoo.
    /// </summary>
    private static PModel TextToRowsModel(ParseResult r, GenericModel generic, Tina.Data.ImageDataset data, IReadOnlyList<string> names)
    {
        using var text = TextCommands.Open(r);
        return TextToRows.Fit(generic, data, Enumerable.Range(0, data.NumClasses).ToList(), text.Encode).Create(names, text.Encode(names));
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
