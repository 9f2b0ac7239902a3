using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Data;
using Tina.Evaluation.Plan;
using Tina.Generation;
using Tina.PModels;

namespace Tina.Cli.Commands;

/// <summary>
/// <c>tina eval</c>: p-Acc of personalization methods over random tasks or a zoo's ID/OOD tasks. Parses the options
/// into <see cref="EvaluationOptions"/>, runs the library's <see cref="Evaluator"/> and prints its report.
/// </summary>
internal static class EvalCommand
{
    private static readonly string Known = string.Join(", ", EvaluationMethodRegistry.CreateDefault().Names);

    public static Command Create()
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {Known} (finetune needs --zoo; taper-mixer is trained here on the zoo's training tasks, with --encoder's text embeddings of the names, or of the descriptions with --prompt-kind descriptions; tina = DDIM-50, tina-ddpm = DDPM-1000, both need --generator).", DefaultValueFactory = _ => "generic,classifier-selection" };
        var tasks = new Option<int>("--tasks") { Description = "Number of tasks (random ones; with --zoo, at most this many per split).", DefaultValueFactory = _ => 100 };
        var k = new Option<int>("--classes-per-task") { Description = "Classes per random task.", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random task sampler.", DefaultValueFactory = _ => 0 };
        var zoo = new Option<string?>("--zoo") { Description = "Evaluate on this zoo's tasks: ID = its training tasks, OOD = its held-out tasks." };
        var ddimSteps = new Option<int?>("--ddim-steps") { Description = "Sampling steps of the tina (DDIM) method (default: the generator's, see tina serve's /v1/generator)." };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file." };
        var prompts = new Option<string?>("--prompts") { Description = "Score your own class lists: a text file with one class list per line, classes separated by commas or semicolons (blank lines and lines starting with # are skipped); prints p-Acc per list." };
        var promptKind = TinaCommands.PromptKindOption("What the tina methods condition each class on: names (default) or descriptions (the dataset's built-in class descriptions).");
        var classTexts = new Option<string?>("--class-texts") { Description = "Prompt the tina methods with your own text per class: a UTF-8 file of 'class<TAB>text' lines (e.g. plurals, synonyms, descriptions); classes not in the file keep their names." };
        var imageShots = new Option<int>("--image-shots") { Description = "Prompt the tina methods with K training images per class instead of its name (zero-shot image prompts through --projector; 0 = text prompts).", DefaultValueFactory = _ => 0 };
        var ensemble = TinaCommands.EnsembleOption();
        ensemble.Description = $"Seed ensemble for the tina methods: K generated p-Models per task, classified by their mean softmax (1 to {PModelEnsemble.MaxMembers}; method names get -ensK).";
        var splice = new Option<string?>("--splice") { Description = "Diagnostic: also score generated p-Models with one part taken from elsewhere, as comma-separated BODY/CLASSIFIER pairs; each part is tina, finetune or classifier-selection, one of them tina (e.g. finetune/tina = the fine-tuned p-Model's convolutions with the generated classifier rows). Needs --generator, and --zoo for finetune. Reported as body:BODY+classifier:CLASSIFIER." };
        var cross = new Option<string?>("--cross-dataset") { Description = "Photos from another source: score every method on this dataset's images (both its splits) of the classes whose names --dataset shares with it, on random lists of 2–10 of them (e.g. --dataset cifar100 --cross-dataset caltech101: 14 shared classes). finetune does not apply." };
        var cmd = new Command("eval", "Measure p-Acc (test split restricted to each task's classes, relabelled by prompt position; the validation split for a zoo built with --val-fraction).")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, methods, tasks, k, seed, zoo, cross, prompts, json, TinaCommands.GeneratorOption, ddimSteps, ensemble, splice, promptKind, classTexts, imageShots, ImagePromptCommands.ProjectorOption,
            TextCommands.EncoderOption, TextCommands.ClipModelOption, TextCommands.MergesOption,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var options = new EvaluationOptions
            {
                Dataset = r.GetValue(Datasets.DatasetOption)!, Arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!),
                Methods = CliContext.SplitList(r.GetValue(methods)), Tasks = r.GetValue(tasks), ClassesPerTask = r.GetValue(k), Seed = r.GetValue(seed),
                Zoo = r.GetValue(zoo), CrossDataset = r.GetValue(cross), PromptsFile = r.GetValue(prompts),
                Generator = r.GetValue(TinaCommands.GeneratorOption), DdimSteps = r.GetValue(ddimSteps), Ensemble = r.GetValue(ensemble), Splices = CliContext.SplitList(r.GetValue(splice)),
                PromptKind = TinaCommands.ParsePromptKind(r.GetValue(promptKind)!), ClassTextsFile = r.GetValue(classTexts), ImageShots = r.GetValue(imageShots),
                Projector = r.GetValue(ImagePromptCommands.ProjectorOption),
            };
            var report = new Evaluator(new Environment(r)).Run(options, cancel);
            foreach (var table in report.Tables()) AnsiConsole.Write(Draw(table));
            if (r.GetValue(json) is { } path)
            {
                report.WriteJson(path);
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/]");
            }
            foreach (var v in report.Verdicts())
                AnsiConsole.MarkupLine(Markup.Escape(v.ToString()).Replace(Markup.Escape(v.Who), $"[{(v.Gap >= 0 ? "green" : "red")}]{Markup.Escape(v.Who)}[/]", StringComparison.Ordinal));
            return 0;
        }));
        return cmd;
    }

    /// <summary>A report table as a Spectre.Console table (every text escaped: class lists are user text).</summary>
    private static Table Draw(ReportTable report)
    {
        var table = new Table().Title(Markup.Escape(report.Title));
        foreach (var c in report.Columns)
            table.AddColumn(c.RightAligned ? new TableColumn(Markup.Escape(c.Name)).RightAligned() : new TableColumn(Markup.Escape(c.Name)));
        foreach (var row in report.Rows) table.AddRow(row.Select(Markup.Escape).ToArray());
        return table;
    }

    /// <summary>The CLI's way of opening things (--data, --artifacts, --device, --encoder) and of showing stages as progress bars.</summary>
    private sealed class Environment(ParseResult r) : EvaluationEnvironment(CliContext.ArtifactsDir(r), CliContext.DataDir(r))
    {
        private TorchSharp.torch.Device? _device;

        public override TorchSharp.torch.Device Device => _device ??= CliContext.TorchDevice(r);

        public override ImageDataset OpenDataset(string id, CancellationToken cancel = default) => Datasets.Open(r, id);

        public override TinaGenerator OpenGenerator(string checkpointDir) => TinaCommands.OpenGenerator(r, checkpointDir, null, Device);

        public override Tina.Text.ITextEncoder OpenTextEncoder() => TextCommands.Open(r);

        public override T Stage<T>(string title, Func<IProgress<double>?, T> work) => ProgressView.Run(title, p => work(new Fraction(p)));

        public override void Note(string line) => AnsiConsole.MarkupLine(Markup.Escape(line));
    }

    private sealed class Fraction(IProgress<Step> sink) : IProgress<double>
    {
        public void Report(double f) => sink.Report(new Step(f, ""));
    }
}
