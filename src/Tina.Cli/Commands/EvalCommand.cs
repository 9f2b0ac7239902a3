using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Data;
using Tina.Evaluation;
using Tina.Generation;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Taper;
using Tina.Tasks;
using Tina.Zoo;

namespace Tina.Cli.Commands;

/// <summary><c>tina eval</c>: p-Acc of personalization methods over random tasks or a zoo's ID/OOD tasks.</summary>
internal static class EvalCommand
{
    private static readonly string[] Known = ["generic", "classifier-selection", FineTunedMethod.Name, TaperMixer.MethodName, TextToRowsMethod.MethodName, "tina", "tina-ddpm"];

    public static Command Create()
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods: {string.Join(", ", Known)} (finetune needs --zoo; taper-mixer is trained here on the zoo's training tasks, with --encoder's text embeddings of the names, or of the descriptions with --prompt-kind descriptions; tina = DDIM-50, tina-ddpm = DDPM-1000, both need --generator).", DefaultValueFactory = _ => "generic,classifier-selection" };
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
            var names = CliContext.SplitList(r.GetValue(methods)).Select(m => m.ToLowerInvariant()).Distinct().ToList();
            var unknown = names.Where(n => !Known.Contains(n)).ToList();
            if (names.Count == 0 || unknown.Count > 0)
                throw new TinaException($"Unknown method(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Known)}.");
            if (r.GetValue(tasks) < 1) throw new TinaException("--tasks must be at least 1.");
            int ensembleSize = TinaCommands.CheckEnsemble(r.GetValue(ensemble));
            if (ensembleSize > 1 && !names.Any(n => n.StartsWith("tina", StringComparison.Ordinal)))
                throw new TinaException("--ensemble applies to the tina methods; add tina or tina-ddpm to --methods.");
            var kind = TinaCommands.ParsePromptKind(r.GetValue(promptKind)!);
            if (kind == PromptKind.Mixed) throw new TinaException("--prompt-kind for tina eval is names or descriptions.");
            if (r.GetValue(imageShots) < 0) throw new TinaException("--image-shots must be 0 or more.");
            if (new[] { r.GetValue(imageShots) > 0, kind != PromptKind.Names, r.GetValue(classTexts) is not null }.Count(x => x) > 1)
                throw new TinaException("Give at most one of --image-shots, --prompt-kind descriptions and --class-texts.");
            var zooDir = r.GetValue(zoo);
            var splices = ParseSplices(r.GetValue(splice), zooDir);
            var promptFile = r.GetValue(prompts);
            if (promptFile is not null && zooDir is not null) throw new TinaException("Give either --prompts FILE or --zoo DIR, not both.");
            if (names.Contains(FineTunedMethod.Name) && zooDir is null) throw new TinaException("--methods finetune needs --zoo DIR (the fine-tuned p-Models).");
            if (names.Contains(TaperMixer.MethodName) && zooDir is null) throw new TinaException("--methods taper-mixer needs --zoo DIR (its mixer is trained on the zoo's training tasks).");
            if (r.GetValue(cross) is not null && names.Contains(FineTunedMethod.Name))
                throw new TinaException("--cross-dataset scores lists drawn from the shared classes, which have no fine-tuned p-Models; drop finetune from --methods.");
            if (r.GetValue(cross) is not null && promptFile is not null) throw new TinaException("Give either --prompts FILE or --cross-dataset ID, not both.");
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            var device = CliContext.TorchDevice(r);
            var opened = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var genericPath = GenericModel.DefaultPath(CliContext.ArtifactsDir(r), opened.Name, arch);
            using var generic = GenericModel.Load(genericPath);

            var manifest = zooDir is null ? null : ZooManifest.Load(zooDir);
            if (manifest is not null && (manifest.Dataset != opened.Name || manifest.Arch != arch.ToName()))
                throw new TinaException($"The zoo {zooDir} is {manifest.Dataset}/{manifest.Arch}, not {opened.Name}/{arch.ToName()}.");
            // A zoo built with a validation split is scored on it, like its fine-tuned p-Models: every method sees the
            // same images, and TAPER-Mixer and image prompts train without them.
            var dataset = manifest?.EvaluationData(opened) ?? opened;
            string splitName = manifest?.Validation is null ? "test" : "validation";
            IReadOnlyList<PersonalizationTask>? crossTasks = null;
            if (r.GetValue(cross) is { } crossId)
            {
                var target = Datasets.Open(r, crossId);
                var shared = CrossDataset.SharedClasses(opened, target);
                dataset = new ImageDataset(dataset.Name, dataset.ClassNames, dataset.Train, CrossDataset.Images(opened, target), dataset.SuperclassNames, dataset.ClassToSuperclass);
                splitName = $"{target.Name} photos of {shared.Count} shared classes ({string.Join(", ", shared.Select(p => opened.ClassNames[p.Source]))}; {dataset.Test.Count} images)";
                crossTasks = CrossDataset.Tasks(opened, shared, r.GetValue(tasks), 2, 10, r.GetValue(seed));
            }
            // The generator's class slots bound a prompt's length; without one, the dataset's class count does.
            var userTasks = promptFile is null ? null : PromptFile.Read(promptFile, dataset, dataset.NumClasses);
            // Each group of tasks: its label, and for zoo tasks the zoo split and filter the fine-tuned p-Models are read with.
            var groups = crossTasks is not null ? [new TaskGroup("cross", crossTasks)]
                : userTasks is not null ? [new TaskGroup("prompts", userTasks)]
                : manifest is null
                ? [new TaskGroup("random", RandomTaskSampler.Sample(dataset, r.GetValue(tasks), r.GetValue(k), r.GetValue(seed)))]
                : ZooGroups(manifest, dataset).Select(g => new TaskGroup(g.Label, FineTunedMethod.Tasks(manifest, g.Split, r.GetValue(tasks), g.Where), g.Split, g.Where))
                    .Where(g => g.Tasks.Count > 0).ToList();
            // The generator opens its text encoder only when a task names a class the checkpoint has no embedding for.
            using var tina = names.Any(n => n.StartsWith("tina", StringComparison.Ordinal)) || splices.Count > 0
                ? TinaCommands.OpenGenerator(r, TinaCommands.RequireGenerator(r), null, device)
                : null;

            // One text per class name for every text-conditioned method (Tina, TAPER-Mixer): the name, a --class-texts
            // text or the built-in description; image prompts replace the texts by vectors for Tina.
            var textOf = ClassTexts(kind, dataset.Name, r.GetValue(classTexts));
            var classPrompts = r.GetValue(imageShots) > 0 && tina is not null
                ? ImageShotPrompts(ImagePrompts.ImagePromptProjector.Load(r.GetValue(ImagePromptCommands.ProjectorOption) ?? ImagePromptCommands.DefaultPath(CliContext.ArtifactsDir(r), dataset.Name, arch.ToName()))
                    .RequireEncoder(tina.State.TextEncoderId, "the generator"), generic, genericPath, dataset, r.GetValue(imageShots), r.GetValue(seed))
                : textOf is null ? null : task => task.Names.Select(n => new ClassPrompt(n, textOf(n))).ToList();
            // TAPER-Mixer: experts and mixer trained once on all of the zoo's training tasks, then used for every group.
            using var text = names.Contains(TaperMixer.MethodName) || names.Contains(TextToRowsMethod.MethodName) ? TextCommands.Open(r) : null;
            using var taper = !names.Contains(TaperMixer.MethodName) ? null : ProgressView.Run("TAPER-Mixer (experts, then mixer)", p =>
                TaperMixer.Train(generic, dataset, FineTunedMethod.Tasks(manifest!, "train"), text!, new TaperMixerOptions(), new Fraction(p), cancel, textOf));
            // text-to-rows: a text → row map fitted on the rows of the classes the zoo's training tasks use (all classes without a zoo).
            Func<IReadOnlyList<string>, float[][]>? embed = text is null ? null : classNames => text.Encode(classNames.Select(n => textOf?.Invoke(n) ?? n).ToList());
            TextToRows? textToRows = null;
            if (names.Contains(TextToRowsMethod.MethodName))
            {
                var seen = manifest is null ? Enumerable.Range(0, dataset.NumClasses).ToList()
                    : FineTunedMethod.Tasks(manifest, "train").SelectMany(t => t.Classes).Distinct().Order().ToList();
                textToRows = TextToRows.Fit(generic, seen, embed!(seen.Select(c => dataset.ClassNames[c]).ToList()));
                AnsiConsole.MarkupLine($"text-to-rows: ridge map from {Markup.Escape(text!.Id)} to rows, fitted on {seen.Count} classes; λ {textToRows.Lambda} chosen by 5-fold cross-validation over them (row error {textToRows.ValidationError:G3}).");
            }

            var results = new List<(string Split, IReadOnlyList<PersonalizationTask> Tasks, PAccResult Result)>();
            foreach (var (split, list, zooSplit, where) in groups)
                foreach (var name in names)
                {
                    if (name == FineTunedMethod.Name)
                    {
                        results.Add((split, list, FineTunedMethod.Evaluate(manifest!, zooSplit!, r.GetValue(tasks), where)));
                        continue;
                    }
                    using var method = name == TextToRowsMethod.MethodName ? new Owned(new TextToRowsMethod(generic, textToRows!, embed!, dataset.Test, device))
                        : Create(name, generic, dataset, device, tina, taper, r.GetValue(ddimSteps), ensembleSize, classPrompts);
                    results.Add((split, list, ProgressView.Run($"p-Acc {split} {name}", p =>
                        PAcc.Evaluate(method.Method, list, dataset.Test, new Fraction(p), cancel))));
                }
            if (splices.Count > 0)
            {
                // The fine-tuned p-Models of the zoo's tasks, by prompt, for the finetune parts of a splice.
                var fineTuned = splices.Any(x => x.Body == FineTunedMethod.Name || x.Classifier == FineTunedMethod.Name)
                    ? ZooReader.ReadAll(zooDir!, out _).GroupBy(e => e.AsTask().Prompt, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Parameters, StringComparer.Ordinal)
                    : null;
                PModel Part(string source, PersonalizationTask task, PModel generated) => source switch
                {
                    "tina" => generated,
                    "classifier-selection" => ClassifierSelection.Create(generic, task),
                    _ => new PModel(generated.Arch, task.Names, fineTuned![task.Prompt], generated.Frozen),
                };
                foreach (var (split, list, _, _) in groups)
                    foreach (var (body, classifier) in splices)
                    {
                        var name = $"body:{body}+classifier:{classifier}";
                        using var method = new TinaMethod(tina!, new GenerateOptions { Steps = r.GetValue(ddimSteps), EnsembleSize = ensembleSize }, name, device, classPrompts,
                            (task, generated) => PModelSplice.Combine(Part(body, task, generated), Part(classifier, task, generated)));
                        results.Add((split, list, ProgressView.Run($"p-Acc {split} {name}", p =>
                            PAcc.Evaluate(method, list, dataset.Test, new Fraction(p), cancel))));
                    }
            }

            var title = $"p-Acc % on {dataset.Name} {splitName}, {arch.ToName()} (generic model: {generic.Card.TestAccuracy:F2} % top-1)";
            if (userTasks is not null) WritePerPrompt(title, userTasks, results.Select(x => x.Result).ToList());
            else WriteTable(title, results);

            if (r.GetValue(json) is { } path)
            {
                var doc = new JsonObject
                {
                    ["dataset"] = dataset.Name, ["arch"] = arch.ToName(), ["split"] = splitName,
                    ["tasks"] = results.Count > 0 ? results[0].Tasks.Count : 0,
                    ["taskSource"] = userTasks is not null ? Path.GetFullPath(promptFile!)
                        : manifest is null ? $"random (seed {r.GetValue(seed)}, {r.GetValue(k)} classes)" : Path.GetFullPath(zooDir!),
                    ["genericTestAccuracy"] = generic.Card.TestAccuracy,
                };
                foreach (var group in results.GroupBy(x => x.Split))
                {
                    var m = new JsonObject();
                    foreach (var (_, list, res) in group)
                    {
                        var entry = new JsonObject { ["pAcc"] = Math.Round(res.Mean, 3), ["std"] = Math.Round(res.Std, 3) };
                        var byCount = res.ByClassCount(list);
                        if (byCount.Count > 1)
                            entry["byClasses"] = new JsonObject(byCount.Select(c => KeyValuePair.Create(c.Classes.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)new JsonObject { ["tasks"] = c.Tasks, ["pAcc"] = Math.Round(c.Mean, 3) })));
                        if (userTasks is not null)
                            entry["perPrompt"] = new JsonArray(list.Select((t, i) => (JsonNode?)new JsonObject { ["prompt"] = t.Prompt, ["pAcc"] = Math.Round(res.PerTask[i], 3) }).ToArray());
                        m[res.Method] = entry;
                    }
                    if (manifest is null) doc["methods"] = m;
                    else doc[JsonKey(group.Key)] = new JsonObject { ["tasks"] = group.First().Tasks.Count, ["methods"] = m };
                }
                AtomicFile.WriteAllText(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/]");
            }
            foreach (var line in Verdicts(results)) AnsiConsole.MarkupLine(line);
            return 0;
        }));
        return cmd;
    }

    private static readonly string[] SpliceParts = ["tina", FineTunedMethod.Name, "classifier-selection"];

    /// <summary>The <c>--splice</c> pairs (body source, classifier source), checked.</summary>
    private static List<(string Body, string Classifier)> ParseSplices(string? spec, string? zooDir)
    {
        var pairs = new List<(string Body, string Classifier)>();
        foreach (var item in CliContext.SplitList(spec))
        {
            var parts = item.ToLowerInvariant().Split('/', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts.Any(p => !SpliceParts.Contains(p)))
                throw new TinaException($"--splice takes BODY/CLASSIFIER pairs, each part one of {string.Join(", ", SpliceParts)}; got '{item}'.");
            if (!parts.Contains("tina") || parts[0] == parts[1])
                throw new TinaException($"--splice '{item}': one part must be tina and the other not (tina/tina is the tina method).");
            if (parts.Contains(FineTunedMethod.Name) && zooDir is null)
                throw new TinaException($"--splice '{item}' needs --zoo DIR (the fine-tuned p-Models).");
            if (!pairs.Contains((parts[0], parts[1]))) pairs.Add((parts[0], parts[1]));
        }
        return pairs;
    }

    /// <summary>A group of evaluated tasks; zoo groups also name the zoo split and task filter of their fine-tuned p-Models.</summary>
    private sealed record TaskGroup(string Label, IReadOnlyList<PersonalizationTask> Tasks, string? ZooSplit = null, Func<ZooTask, bool>? Where = null);

    /// <summary>
    /// A zoo's groups: ID and OOD; in a zoo with held-out classes the OOD tasks are reported per share of unseen
    /// classes ("OOD 50% unseen").
    /// </summary>
    private static IEnumerable<(string Label, string Split, Func<ZooTask, bool>? Where)> ZooGroups(ZooManifest manifest, ImageDataset data)
    {
        yield return ("ID", "train", null);
        if (data.ClassSources is { } sources)
        {
            // One vocabulary: the held-out lists of one dataset's classes (each class's home, the first dataset that
            // has it), then the lists that mix datasets.
            string Home(int c) => sources[c][0];
            foreach (var home in sources.Select(x => x[0]).Distinct())
                yield return ($"OOD {home}", "ood", t => t.Classes.All(c => Home(c) == home));
            yield return ("OOD mixed", "ood", t => t.Classes.Select(Home).Distinct().Count() > 1);
            yield break;
        }
        var ratios = manifest.Tasks.Where(t => t.Split == "ood" && t.UnseenRatio is not null).Select(t => t.UnseenRatio!.Value).Distinct().Order().ToList();
        if (manifest.UnseenClasses is null || ratios.Count == 0)
        {
            yield return ("OOD", "ood", null);
            yield break;
        }
        foreach (var ratio in ratios)
            yield return ($"OOD {ratio * 100:0}% unseen", "ood", t => t.UnseenRatio == ratio);
    }

    /// <summary>JSON key of a group: <c>id</c>, <c>ood</c>, <c>ood-unseen-50</c>, or the label itself (<c>cross</c>, <c>random</c>, <c>prompts</c>).</summary>
    private static string JsonKey(string label) => label switch
    {
        "ID" => "id",
        "OOD" => "ood",
        _ when label.EndsWith("% unseen", StringComparison.Ordinal) => "ood-unseen-" + new string(label.Where(char.IsDigit).ToArray()),
        _ when label.StartsWith("OOD ", StringComparison.Ordinal) => "ood-" + label[4..],
        _ => label,
    };

    /// <summary>One row per split and method, then (when the tasks have several class counts) one row per count.</summary>
    private static void WriteTable(string title, List<(string Split, IReadOnlyList<PersonalizationTask> Tasks, PAccResult Result)> results)
    {
        var table = new Table().Title(title)
            .AddColumn("tasks").AddColumn("method").AddColumn(new TableColumn("p-Acc %").RightAligned()).AddColumn(new TableColumn("std").RightAligned());
        foreach (var (split, list, res) in results) table.AddRow($"{split} ({list.Count})", res.Method, $"{res.Mean:F2}", $"{res.Std:F2}");
        AnsiConsole.Write(table);
        var counted = results.Where(x => x.Tasks.Select(t => t.Count).Distinct().Count() > 1).ToList();
        if (counted.Count == 0) return;
        var methods = counted.Select(x => x.Result.Method).Distinct().ToList();
        var byCount = new Table().Title("p-Acc % by class count").AddColumn("tasks").AddColumn(new TableColumn("classes").RightAligned()).AddColumn(new TableColumn("n").RightAligned());
        foreach (var m in methods) byCount.AddColumn(new TableColumn(m).RightAligned());
        foreach (var split in counted.GroupBy(x => x.Split))
        {
            var per = split.ToDictionary(x => x.Result.Method, x => x.Result.ByClassCount(x.Tasks));
            foreach (var (classes, n, _) in per.Values.First())
                byCount.AddRow([split.Key, classes.ToString(), n.ToString(), .. methods.Select(m => per.TryGetValue(m, out var rows) ? $"{rows.First(x => x.Classes == classes).Mean:F2}" : "")]);
        }
        AnsiConsole.Write(byCount);
    }

    /// <summary>One plain line per split that has Tina and classifier selection: who is ahead, by how many points.</summary>
    private static IEnumerable<string> Verdicts(List<(string Split, IReadOnlyList<PersonalizationTask> Tasks, PAccResult Result)> results)
    {
        foreach (var split in results.GroupBy(x => x.Split))
        {
            var byName = split.ToDictionary(x => x.Result.Method, x => x.Result);
            var tina = byName.Values.FirstOrDefault(m => m.Method.StartsWith("tina", StringComparison.Ordinal));
            if (tina is null || !byName.TryGetValue("classifier-selection", out var cs)) continue;
            double gap = tina.Mean - cs.Mean;
            var who = gap >= 0 ? $"[green]Tina beats classifier selection by {gap:F2} points[/]" : $"[red]Tina is {-gap:F2} points below classifier selection[/]";
            var ft = byName.TryGetValue(FineTunedMethod.Name, out var f) ? $"; fine-tuned p-Models {f.Mean:F2} % (Tina = {100 * tina.Mean / f.Mean:F1} % of them)" : "";
            yield return $"Verdict, {Markup.Escape(split.Key)} ({split.First().Tasks.Count} class lists): {who} (Tina {tina.Mean:F2} %, classifier selection {cs.Mean:F2} %{ft}).";
        }
    }

    /// <summary>One row per prompt of a <c>--prompts</c> file, one column per method, and the mean.</summary>
    private static void WritePerPrompt(string title, IReadOnlyList<PersonalizationTask> tasks, IReadOnlyList<PAccResult> results)
    {
        var table = new Table().Title(title).AddColumn("#").AddColumn("class list");
        foreach (var res in results) table.AddColumn(new TableColumn(res.Method).RightAligned());
        for (int i = 0; i < tasks.Count; i++)
            table.AddRow([(i + 1).ToString(), Markup.Escape(tasks[i].Prompt), .. results.Select(x => $"{x.PerTask[i]:F2}")]);
        table.AddRow(["", $"mean over {tasks.Count} lists", .. results.Select(x => $"{x.Mean:F2}")]);
        AnsiConsole.Write(table);
    }

    private sealed class Owned(IPersonalizationMethod method, bool owns = true) : IDisposable
    {
        public IPersonalizationMethod Method => method;
        public void Dispose()
        {
            if (owns) (method as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The text of each class name for the text-conditioned methods: null for the names themselves; the
    /// <paramref name="classTextsFile"/>'s text (the name when absent); or with descriptions, the built-in description.
    /// </summary>
    private static Func<string, string>? ClassTexts(PromptKind kind, string dataset, string? classTextsFile)
    {
        if (classTextsFile is not null)
        {
            var texts = Tina.Text.ClassTextsFile.Read(classTextsFile);
            return n => texts.TryGetValue(n, out var t) ? t : n;
        }
        if (kind != PromptKind.Descriptions) return null;
        var descriptions = Tina.Text.ClassDescriptions.LoadBuiltIn(dataset);
        return n => descriptions.TryGetValue(n, out var d) ? d : throw new TinaException($"No built-in description for the class '{n}' of {dataset}.");
    }

    /// <summary>
    /// Image prompts: each class is shown by <paramref name="shots"/> of its training images (a seeded choice, the same
    /// for every task), embedded by the projector.
    /// </summary>
    private static Func<PersonalizationTask, IReadOnlyList<ClassPrompt>> ImageShotPrompts(ImagePrompts.ImagePromptProjector projector, GenericModel generic, string genericPath, ImageDataset data, int shots, int seed)
    {
        // The projector reads the features of the generic model it was fitted on; another one's mean nothing to it.
        if (!string.Equals(Path.GetFullPath(projector.GenericModel), Path.GetFullPath(genericPath), StringComparison.Ordinal))
            throw new TinaException($"The image-prompt projector was fitted on the generic model {projector.GenericModel}, not on {genericPath}; fit one for this generic model (tina image-prompts fit).");
        var cache = new Dictionary<int, float[]>();
        float[] Of(int c)
        {
            if (cache.TryGetValue(c, out var v)) return v;
            var idx = data.Train.IndicesOf(new HashSet<int> { c });
            new Random(Runtime.Seeds.Derive(seed, c, 0x1A6E)).Shuffle(idx);
            return cache[c] = projector.Embed(generic, data.Train, idx.Take(shots).ToArray());
        }
        return task => task.Classes.Select((c, i) => new ClassPrompt(task.Names[i], $"images of {task.Names[i]}") { Embedding = Of(c) }).ToList();
    }

    private static Owned Create(string name, GenericModel generic, ImageDataset data, TorchSharp.torch.Device device, TinaGenerator? tina, TaperMixer? taper, int? ddimSteps, int ensemble,
        Func<PersonalizationTask, IReadOnlyList<ClassPrompt>>? prompts) =>
        name == TaperMixer.MethodName ? new(taper!, owns: false) : new(name switch
    {
        "tina" => new TinaMethod(tina!, new GenerateOptions { Steps = ddimSteps, EnsembleSize = ensemble }, device: device, prompts: prompts),
        "tina-ddpm" => new TinaMethod(tina!, new GenerateOptions { Sampler = Diffusion.DiffusionSampler.Ddpm, EnsembleSize = ensemble }, device: device, prompts: prompts),
        "generic" => new GenericMethod(generic, data.Test, device),
        _ => new ClassifierSelectionMethod(generic, data.Test, device),
    });

    private sealed class Fraction(IProgress<Step> sink) : IProgress<double>
    {
        public void Report(double f) => sink.Report(new Step(f, ""));
    }
}
