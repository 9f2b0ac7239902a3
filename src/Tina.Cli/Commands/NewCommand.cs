using System.CommandLine;
using System.Reflection;
using Microsoft.ML;
using Spectre.Console;
using Tina.Cli.Projects;
using Tina.Generation;
using Tina.Generic;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Export;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary>
/// <c>tina new</c>: a ready .NET project from a class list, Model Builder style — the ML.NET model
/// (<c>NAME.mlnet</c>), its consumption code (<c>NAME.consumption.cs</c>: <c>ModelInput</c>, <c>ModelOutput</c>,
/// <c>Predict</c>), the spec that regenerates it (<c>NAME.tina.json</c>), a console <c>Program.cs</c>, and with
/// <c>--webapi</c> an ASP.NET Core minimal API. The projects reference only ML.NET and ONNX Runtime packages.
/// </summary>
internal static class NewCommand
{
    public static Command Create()
    {
        var name = new Option<string?>("--name") { Description = "Project and class name, a C# identifier (e.g. FruitClassifier)." };
        var classes = new Option<string?>("--classes") { Description = $"Class names in output order, {CliContext.ClassListFormat}, e.g. \"apple, pear, orange\"." };
        var method = new Option<string?>("--method") { Description = "tina (default with --generator) or classifier-selection (a generic model's rows; needs --arch)." };
        var sampler = new Option<string>("--sampler") { Description = "Sampler for tina: ddim or ddpm.", DefaultValueFactory = _ => "ddim" };
        var steps = new Option<int?>("--steps") { Description = "Sampling steps (default: ddim 50, ddpm 1000)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the sampling noise; the same seed gives the same model.", DefaultValueFactory = _ => 0 };
        var ensemble = new Option<int>("--ensemble") { Description = "Seed-ensemble size K (1 to 16): K generated p-Models, mean softmax.", DefaultValueFactory = _ => 1 };
        var webapi = new Option<bool>("--webapi") { Description = "Also write NAME.WebApi, an ASP.NET Core minimal API (POST /predict with an image body)." };
        var output = new Option<string>("--out") { Description = "Folder that receives NAME/ (and NAME.WebApi/).", DefaultValueFactory = _ => "." };
        var from = new Option<string?>("--from") { Description = "Regenerate from a NAME.tina.json written by tina new (same model bytes for the same generator and thread count)." };
        var force = new Option<bool>("--force") { Description = "Overwrite the generated files in existing project folders." };
        var cmd = new Command("new", "Create a ready .NET project from a class list: the ML.NET model, consumption code, a console app and optionally a Web API.")
        {
            name, classes, TinaCommands.GeneratorOption, method, Datasets.DatasetOption, GenericCommands.ArchOption, sampler, steps, seed, ensemble,
            TinaCommands.FormatOption, webapi, output, from, force, TextCommands.ClipModelOption,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var (spec, previous, baseDir) = ReadSpec(r);
            if (!ProjectWriter.IsValidName(spec.Name))
                throw new TinaException($"--name '{spec.Name}' cannot name a C# project and class: use letters, digits and '_', starting with a letter (e.g. FruitClassifier).");
            var model = Model(r, spec, baseDir);
            if (previous?.GeneratorId is { } was && model.GeneratorId is { } now && was != now)
                throw new TinaException($"The generator in {spec.Generator} is not the one {spec.Name}.tina.json was made with (weights {now}, recorded {was}).");
            spec = spec with { GeneratorId = model.GeneratorId, OnnxSha256 = model.OnnxSha256, TinaVersion = OnnxExporter.ProducerVersion };
            var folders = ProjectWriter.Write(Path.GetFullPath(r.GetValue(output)!), spec, model.MLNetModel, Packages(), r.GetValue(force));
            var info = model.Info;
            AnsiConsole.MarkupLine($"Created [bold]{Markup.Escape(folders[0])}[/]: {Markup.Escape(spec.Name)}.mlnet ({model.MLNetModel.Length / 1024.0:F1} KB, {info.Arch}, {info.NumClasses} classes: {Markup.Escape(string.Join(", ", info.Labels))}; {Markup.Escape(info.Method ?? spec.Method)}), {Markup.Escape(spec.Name)}.consumption.cs, Program.cs, {Markup.Escape(spec.Name)}.tina.json");
            if (folders.Count > 1) AnsiConsole.MarkupLine($"Created [bold]{Markup.Escape(folders[1])}[/]: POST /predict with an image body");
            if (previous?.OnnxSha256 is { } recorded)
                AnsiConsole.MarkupLine(recorded == model.OnnxSha256
                    ? "Regenerated the same model: its ONNX bytes match the recorded SHA-256."
                    : $"[yellow]The model's ONNX bytes differ from the recorded {Markup.Escape(recorded)}[/] (generation is bit-exact only with the same thread count: set TINA_THREADS as when it was made).");
            AnsiConsole.MarkupLine($"Run it: [bold]dotnet run --project {Markup.Escape(folders[0])} -- IMAGE...[/]");
            return 0;
        }));
        return cmd;

        // The spec: read from --from (a NAME.tina.json, paths relative to it) or made from the options.
        (TinaProjectSpec Spec, TinaProjectSpec? Previous, string BaseDir) ReadSpec(ParseResult r)
        {
            if (r.GetValue(from) is { } specPath)
            {
                var previous = TinaProjectSpec.Load(Path.GetFullPath(specPath));
                return (previous with { WebApi = previous.WebApi || r.GetValue(webapi) }, previous, Path.GetDirectoryName(Path.GetFullPath(specPath))!);
            }
            var given = r.GetValue(TinaCommands.GeneratorOption);
            var m = (r.GetValue(method) ?? (given is null ? "" : "tina")).Trim().ToLowerInvariant();
            if (m.Length == 0) throw new TinaException("Give a trained generator (--generator DIR) or --method classifier-selection --arch cnn5k|resnet20.");
            var spec = new TinaProjectSpec
            {
                Name = r.GetValue(name) ?? throw new TinaException("Give the project name: --name FruitClassifier."),
                Classes = [.. ClassList.Parse(r.GetValue(classes) ?? throw new TinaException("Give the classes: --classes \"apple, pear, orange\"."))],
                Method = m,
                Generator = given is null ? null : Path.GetFullPath(given),
                Sampler = r.GetValue(sampler)!.Trim().ToLowerInvariant(),
                Steps = r.GetValue(steps),
                Seed = r.GetValue(seed),
                Ensemble = r.GetValue(ensemble),
                Dataset = m == "classifier-selection" ? r.GetValue(Datasets.DatasetOption) : null,
                Arch = m == "classifier-selection" ? r.GetValue(GenericCommands.ArchOption) : null,
                WebApi = r.GetValue(webapi),
                ClassifierFormat = r.GetResult(TinaCommands.FormatOption) is { Implicit: false } ? r.GetValue(TinaCommands.FormatOption)!.Trim().ToLowerInvariant() : null,
            };
            return (spec, null, Environment.CurrentDirectory);
        }
    }

    /// <summary>The spec's model (<see cref="TinaProjectModel"/>): the generator or the generic model and dataset are opened as the options say.</summary>
    private static TinaProjectModel Model(ParseResult r, TinaProjectSpec spec, string baseDir)
    {
        var device = CliContext.TorchDevice(r);
        switch (spec.Method)
        {
            case "tina":
            {
                var dir = Path.GetFullPath(spec.Generator ?? throw new TinaException("Method tina needs the generator: --generator DIR."), baseDir);
                using var gen = TinaCommands.OpenGenerator(r, dir, r.GetValue(TextCommands.ClipModelOption), device);
                var options = new GenerateOptions
                {
                    Sampler = TinaCommands.ParseSampler(spec.Sampler), Steps = spec.Steps, Seed = spec.Seed, EnsembleSize = TinaCommands.CheckEnsemble(spec.Ensemble),
                };
                return TinaProjectModel.Generate(gen, spec.Classes, options, Format(spec));
            }
            case "classifier-selection":
            {
                var arch = PModelArchNames.Parse(spec.Arch ?? "cnn5k");
                var data = Datasets.Open(r, spec.Dataset ?? "cifar100");
                var task = ExportCommand.ClassifierSelectionTask(data, spec.Classes);
                using var generic = GenericModel.Load(GenericModel.DefaultPath(CliContext.ArtifactsDir(r), data.Name, arch));
                return TinaProjectModel.SelectClassifier(generic, task, Format(spec));
            }
            default:
                throw new TinaException($"Unknown method '{spec.Method}'. Use tina (with --generator) or classifier-selection.");
        }
    }

    private static ClassifierFormat Format(TinaProjectSpec spec) => ClassifierFormats.Parse(spec.ClassifierFormat ?? "onnx");

    private static IReadOnlyDictionary<string, string> Packages()
    {
        var meta = typeof(NewCommand).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(a => a.Key, a => a.Value ?? "");
        var ml = meta["MLNetVersion"];
        return new Dictionary<string, string>
        {
            ["Microsoft.ML"] = ml,
            ["Microsoft.ML.ImageAnalytics"] = ml,
            ["Microsoft.ML.OnnxTransformer"] = ml,
            ["Microsoft.ML.OnnxRuntime"] = meta["OnnxRuntimeVersion"],
        };
    }
}
