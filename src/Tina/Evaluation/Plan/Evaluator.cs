using Tina.Generation;
using Tina.Generic;
using Tina.PModels;
using Tina.Taper;
using Tina.Tasks;
using Tina.Zoo;

namespace Tina.Evaluation.Plan;

/// <summary>
/// A group of evaluated tasks (<c>ID</c>, <c>OOD</c>, <c>OOD 50% unseen</c>, <c>OOD cifar100</c>, <c>random</c>,
/// <c>prompts</c>, <c>cross</c>); a zoo's groups also name the zoo split and task filter its fine-tuned p-Models are
/// read with.
/// </summary>
/// <param name="Label">Label in tables and verdicts.</param>
/// <param name="Tasks">The tasks, in order.</param>
/// <param name="ZooSplit">The zoo split (<c>train</c>, <c>ood</c>) of a zoo group; null otherwise.</param>
/// <param name="Where">Which of the split's tasks belong to the group; null: all.</param>
public sealed record EvaluationGroup(string Label, IReadOnlyList<PersonalizationTask> Tasks, string? ZooSplit = null, Func<ZooTask, bool>? Where = null)
{
    /// <summary>Key of the group in the JSON report: <c>id</c>, <c>ood</c>, <c>ood-unseen-50</c>, <c>ood-cifar100</c>, or the label itself (<c>cross</c>, <c>random</c>, <c>prompts</c>).</summary>
    public string JsonKey => Label switch
    {
        "ID" => "id",
        "OOD" => "ood",
        _ when Label.EndsWith("% unseen", StringComparison.Ordinal) => "ood-unseen-" + new string(Label.Where(char.IsDigit).ToArray()),
        _ when Label.StartsWith("OOD ", StringComparison.Ordinal) => "ood-" + Label[4..],
        _ => Label,
    };

    /// <summary>
    /// A zoo's groups, each with at most <paramref name="maxTasks"/> of its tasks that have a finished p-Model (groups
    /// without any are left out): ID and OOD; in a zoo with held-out classes the OOD tasks per share of unseen classes
    /// ("OOD 50% unseen"); on a merged dataset, the OOD lists of each home dataset's classes, then the lists that mix
    /// datasets ("OOD mixed").
    /// </summary>
    public static IReadOnlyList<EvaluationGroup> OfZoo(ZooManifest manifest, Data.ImageDataset data, int? maxTasks = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(data);
        return Splits(manifest, data).Select(g => new EvaluationGroup(g.Label, FineTunedMethod.Tasks(manifest, g.Split, maxTasks, g.Where), g.Split, g.Where))
            .Where(g => g.Tasks.Count > 0).ToList();
    }

    private static IEnumerable<(string Label, string Split, Func<ZooTask, bool>? Where)> Splits(ZooManifest manifest, Data.ImageDataset data)
    {
        yield return ("ID", "train", null);
        // A zoo with held-out classes: its OOD lists by their share of unseen classes (the paper's Table 3).
        var ratios = manifest.UnseenClasses is null ? [] :
            manifest.Tasks.Where(t => t.Split == "ood" && t.UnseenRatio is not null).Select(t => t.UnseenRatio!.Value).Distinct().Order().ToList();
        foreach (var ratio in ratios)
            yield return ($"OOD {ratio * 100:0}% unseen", "ood", t => t.UnseenRatio == ratio);
        if (data.ClassSources is { } sources)
        {
            // One vocabulary: the held-out lists of one dataset's classes (each class's home, the first dataset that
            // has it), then the lists that mix datasets (with held-out classes, a second view of the same lists).
            string Home(int c) => sources[c][0];
            foreach (var home in sources.Select(x => x[0]).Distinct())
                yield return ($"OOD {home}", "ood", t => t.Classes.All(c => Home(c) == home));
            yield return ("OOD mixed", "ood", t => t.Classes.Select(Home).Distinct().Count() > 1);
        }
        else if (ratios.Count == 0)
            yield return ("OOD", "ood", null);
    }
}

/// <summary>
/// The one entry point of an evaluation (<c>tina eval</c> calls it and prints what it returns): checks the
/// <see cref="EvaluationOptions"/>, opens what they name through the <see cref="EvaluationEnvironment"/>, builds the
/// groups of tasks (random, a prompts file, a zoo's ID/OOD groups, or cross-dataset lists), scores every method of the
/// <see cref="EvaluationMethodRegistry"/> on every group, and returns the <see cref="EvaluationReport"/>.
/// </summary>
/// <param name="environment">Where things are opened and progress goes.</param>
/// <param name="methods">The methods known by name; null: <see cref="EvaluationMethodRegistry.CreateDefault"/>.</param>
public sealed class Evaluator(EvaluationEnvironment environment, EvaluationMethodRegistry? methods = null)
{
    /// <summary>The methods known by name.</summary>
    public EvaluationMethodRegistry Methods { get; } = methods ?? EvaluationMethodRegistry.CreateDefault();

    /// <summary>
    /// Checks <paramref name="options"/> without opening anything and resolves the methods: those of
    /// <see cref="EvaluationOptions.Methods"/> (with the ensemble applied to tina and tina-ddpm), then the splices.
    /// </summary>
    /// <exception cref="TinaException">An unknown method, a bad number, or options that do not go together.</exception>
    public IReadOnlyList<EvaluationMethod> Check(EvaluationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int k = options.Ensemble;
        var names = options.Methods.Select(m => m.Trim().ToLowerInvariant()).Where(m => m.Length > 0)
            .Select(m => k is > 1 and <= PModelEnsemble.MaxMembers && m is "tina" or "tina-ddpm" ? $"{m}-ens{k}" : m).Distinct().ToList();
        var resolved = names.Select(n => (Name: n, Method: Methods.Resolve(n))).ToList();
        var unknown = resolved.Where(x => x.Method is null).Select(x => x.Name).ToList();
        if (names.Count == 0 || unknown.Count > 0)
            throw new TinaException($"Unknown method(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", Methods.Names)}.");
        var list = resolved.Select(x => x.Method!).ToList();
        if (options.Tasks < 1) throw new TinaException("--tasks must be at least 1.");
        if (k is < 1 or > PModelEnsemble.MaxMembers) throw new TinaException($"--ensemble must be 1 to {PModelEnsemble.MaxMembers}; got {k}.");
        if (k > 1 && !names.Any(n => n.StartsWith("tina", StringComparison.Ordinal)))
            throw new TinaException("--ensemble applies to the tina methods; add tina or tina-ddpm to --methods.");
        if (options.PromptKind == PromptKind.Mixed) throw new TinaException("--prompt-kind for tina eval is names or descriptions.");
        if (options.ImageShots < 0) throw new TinaException("--image-shots must be 0 or more.");
        if (new[] { options.ImageShots > 0, options.PromptKind != PromptKind.Names, options.ClassTextsFile is not null }.Count(x => x) > 1)
            throw new TinaException("Give at most one of --image-shots, --prompt-kind descriptions and --class-texts.");
        foreach (var pair in options.Splices)
            if (SpliceEvaluationMethod.Parse(pair, options.Zoo is not null) is var splice && list.All(m => m.Name != splice.Name))
                list.Add(splice);
        if (options.PromptsFile is not null && options.Zoo is not null) throw new TinaException("Give either --prompts FILE or --zoo DIR, not both.");
        foreach (var m in list)
            if (m.NeedsZoo is { } why && options.Zoo is null) throw new TinaException($"--methods {m.Name} needs --zoo DIR ({why}).");
        if (options.CrossDataset is not null && resolved.FirstOrDefault(x => x.Method!.ReadsFineTunedModels).Method is { } fineTuned)
            throw new TinaException($"--cross-dataset scores lists drawn from the shared classes, which have no fine-tuned p-Models; drop {fineTuned.Name} from --methods.");
        if (options.CrossDataset is not null && options.PromptsFile is not null) throw new TinaException("Give either --prompts FILE or --cross-dataset ID, not both.");
        if (options.Generator is null && list.Any(m => m.UsesGenerator))
            throw new TinaException("Give the Tina checkpoint folder: --generator DIR (written by tina train).");
        return list;
    }

    /// <summary>Runs the evaluation <paramref name="options"/> describe.</summary>
    /// <exception cref="TinaException">Bad options (see <see cref="Check"/>), or something they name is missing or does not fit.</exception>
    public EvaluationReport Run(EvaluationOptions options, CancellationToken cancel = default)
    {
        var methods = Check(options);
        var device = environment.Device;
        var opened = environment.OpenDataset(options.Dataset, cancel);
        var genericPath = options.GenericModel ?? GenericModel.DefaultPath(environment.ArtifactsDir, opened.Name, options.Arch);
        var generic = GenericModel.Load(genericPath);
        Scope scope;
        EvaluationContext context;
        try
        {
            scope = OpenScope(options, opened, cancel);
            context = new EvaluationContext(options, environment, device, generic, genericPath, scope.Dataset, scope.Zoo, cancel);   // owns generic from here
        }
        catch
        {
            generic.Dispose();
            throw;
        }
        using var owned = context;
        // What several methods share is opened or trained once, before any scoring and always in this order: the
        // generator (its text encoder opens only for a class the checkpoint has no embedding of) and the class prompts,
        // the text encoder, TAPER-Mixer, the text-to-rows map.
        if (methods.Any(m => m.UsesGenerator))
        {
            _ = context.Generator;
            _ = context.ClassPrompts;
        }
        if (methods.Any(m => m.UsesTextEncoder)) _ = context.TextEncoder;
        if (methods.Any(m => m.Name == TaperMixer.MethodName)) _ = context.TaperMixer;
        if (methods.Any(m => m.Name == TextToRowsMethod.MethodName)) _ = context.TextToRows;

        // Splices are scored after the other methods, group by group.
        var results = new List<EvaluationResult>();
        foreach (var batch in methods.GroupBy(m => m is SpliceEvaluationMethod).OrderBy(b => b.Key))
            foreach (var group in scope.Groups)
                foreach (var method in batch)
                {
                    cancel.ThrowIfCancellationRequested();
                    var result = environment.Stage($"p-Acc {group.Label} {method.Name}", p => method.Score(context, group, p, cancel));
                    results.Add(new EvaluationResult(group, result));
                }

        string arch = options.Arch.ToName(), name = scope.Dataset.Name;
        var title = $"p-Acc % on {name} {scope.Split}, {arch} (generic model: {generic.Card.TestAccuracy:F2} % top-1)";
        var source = options.PromptsFile is not null ? Path.GetFullPath(options.PromptsFile)
            : scope.Zoo is null ? $"random (seed {options.Seed}, {options.ClassesPerTask} classes)" : Path.GetFullPath(options.Zoo!);
        return new EvaluationReport(name, arch, scope.Split, source, generic.Card.TestAccuracy, title, results,
            perPrompt: options.PromptsFile is not null, zooGroups: scope.Zoo is not null, context.Notes);
    }

    /// <summary>What is scored (<see cref="Data.ImageDataset.Test"/> of <paramref name="Dataset"/>, described by <paramref name="Split"/>) and on which groups of tasks.</summary>
    private sealed record Scope(Data.ImageDataset Dataset, ZooManifest? Zoo, string Split, IReadOnlyList<EvaluationGroup> Groups);

    /// <summary>
    /// The images and tasks of an evaluation: a zoo's ID/OOD groups (on its validation split when it has one), another
    /// dataset's photos of the shared classes with random lists of them, a prompts file's lists, or random tasks.
    /// </summary>
    private Scope OpenScope(EvaluationOptions options, Data.ImageDataset opened, CancellationToken cancel)
    {
        var arch = options.Arch.ToName();
        var manifest = options.Zoo is null ? null : ZooManifest.Load(options.Zoo);
        if (manifest is not null && (manifest.Dataset != opened.Name || manifest.Arch != arch))
            throw new TinaException($"The zoo {options.Zoo} is {manifest.Dataset}/{manifest.Arch}, not {opened.Name}/{arch}.");
        // A zoo built with a validation split is scored on it, like its fine-tuned p-Models: every method sees the
        // same images, and TAPER-Mixer and image prompts train without them.
        var dataset = manifest?.EvaluationData(opened) ?? opened;
        var split = manifest?.Validation is null ? "test" : "validation";
        if (options.CrossDataset is { } crossId)
        {
            var target = environment.OpenDataset(crossId, cancel);
            var shared = CrossDataset.SharedClasses(opened, target);
            dataset = new Data.ImageDataset(dataset.Name, dataset.ClassNames, dataset.Train, CrossDataset.Images(opened, target), dataset.SuperclassNames, dataset.ClassToSuperclass);
            split = $"{target.Name} photos of {shared.Count} shared classes ({string.Join(", ", shared.Select(p => opened.ClassNames[p.Source]))}; {dataset.Test.Count} images)";
            return new Scope(dataset, manifest, split, [new EvaluationGroup("cross", CrossDataset.Tasks(opened, shared, options.Tasks, 2, 10, options.Seed))]);
        }
        // The generator's class slots bound a prompt's length; without one, the dataset's class count does.
        if (options.PromptsFile is not null)
            return new Scope(dataset, manifest, split, [new EvaluationGroup("prompts", PromptFile.Read(options.PromptsFile, dataset, dataset.NumClasses))]);
        return new Scope(dataset, manifest, split, manifest is null
            ? [new EvaluationGroup("random", RandomTaskSampler.Sample(dataset, options.Tasks, options.ClassesPerTask, options.Seed))]
            : EvaluationGroup.OfZoo(manifest, dataset, options.Tasks));
    }
}
