using Tina.Diffusion;
using Tina.Generation;
using Tina.Generic;
using Tina.PModels;
using Tina.Taper;
using Tina.Tasks;
using Tina.Zoo;

namespace Tina.Evaluation.Plan;

/// <summary>
/// A method an <see cref="Evaluator"/> scores by name: what it needs (a zoo, the generator, a text encoder) and how it
/// gets its p-Acc on a group of tasks. Most are a <see cref="PersonalizationEvaluationMethod"/>; register your own in an
/// <see cref="EvaluationMethodRegistry"/>.
/// </summary>
public abstract class EvaluationMethod
{
    /// <summary>Sets the name.</summary>
    protected EvaluationMethod(string name) => Name = name;

    /// <summary>Name in reports and in <see cref="EvaluationOptions.Methods"/>.</summary>
    public string Name { get; }

    /// <summary>Why the method needs a zoo (e.g. "the fine-tuned p-Models"), or null when it does not.</summary>
    public virtual string? NeedsZoo => null;

    /// <summary>Whether it reads the zoo's fine-tuned p-Models, which exist only for the zoo's own tasks.</summary>
    public virtual bool ReadsFineTunedModels => false;

    /// <summary>Whether it samples the generator (<see cref="EvaluationOptions.Generator"/>).</summary>
    public virtual bool UsesGenerator => false;

    /// <summary>Whether it embeds class texts with the environment's text encoder.</summary>
    public virtual bool UsesTextEncoder => false;

    /// <summary>p-Acc of the method on <paramref name="group"/>'s tasks, over <see cref="EvaluationContext.Test"/>.</summary>
    public abstract PAccResult Score(EvaluationContext context, EvaluationGroup group, IProgress<double>? progress, CancellationToken cancel);
}

/// <summary>
/// A method scored by <see cref="PAcc.Evaluate"/>: for each group, <paramref name="create"/> makes the
/// <see cref="IPersonalizationMethod"/> (disposed after the group when <paramref name="owned"/>).
/// </summary>
/// <param name="name">Name in reports.</param>
/// <param name="create">Makes the classifier source of one group.</param>
/// <param name="owned">Whether the made method is disposed after its group (false: the context owns it, e.g. TAPER-Mixer).</param>
/// <param name="needsZoo">Why it needs a zoo, or null.</param>
/// <param name="usesGenerator">Whether it samples the generator.</param>
/// <param name="usesTextEncoder">Whether it embeds class texts.</param>
public sealed class PersonalizationEvaluationMethod(string name, Func<EvaluationContext, IPersonalizationMethod> create, bool owned = true,
    string? needsZoo = null, bool usesGenerator = false, bool usesTextEncoder = false) : EvaluationMethod(name)
{
    /// <inheritdoc />
    public override string? NeedsZoo => needsZoo;

    /// <inheritdoc />
    public override bool UsesGenerator => usesGenerator;

    /// <inheritdoc />
    public override bool UsesTextEncoder => usesTextEncoder;

    /// <inheritdoc />
    public override PAccResult Score(EvaluationContext context, EvaluationGroup group, IProgress<double>? progress, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(group);
        var method = create(context);
        try
        {
            return PAcc.Evaluate(method, group.Tasks, context.Test, progress, cancel);
        }
        finally
        {
            if (owned) (method as IDisposable)?.Dispose();
        }
    }
}

/// <summary>The zoo's fine-tuned p-Models (<see cref="FineTunedMethod"/>): their p-Acc as measured when they were trained.</summary>
public sealed class FineTunedEvaluationMethod() : EvaluationMethod(FineTunedMethod.Name)
{
    /// <inheritdoc />
    public override string? NeedsZoo => "the fine-tuned p-Models";

    /// <inheritdoc />
    public override bool ReadsFineTunedModels => true;

    /// <inheritdoc />
    public override PAccResult Score(EvaluationContext context, EvaluationGroup group, IProgress<double>? progress, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(group);
        if (context.Zoo is null || group.ZooSplit is null)
            throw new TinaException($"The {Name} method scores a zoo's own tasks; '{group.Label}' is not a group of the zoo's tasks.");
        var result = FineTunedMethod.Evaluate(context.Zoo, group.ZooSplit, context.Options.Tasks, group.Where);
        progress?.Report(1);
        return result;
    }
}

/// <summary>
/// Tina's generated p-Models (<see cref="TinaMethod"/>): DDIM (<c>tina</c>, <see cref="EvaluationOptions.DdimSteps"/>
/// steps) or DDPM-1000 (<c>tina-ddpm</c>), each optionally a seed ensemble of K (<c>-ensK</c>).
/// </summary>
public sealed class TinaEvaluationMethod : EvaluationMethod
{
    private readonly DiffusionSampler _sampler;
    private readonly int _ensemble;

    /// <summary>The method of <paramref name="sampler"/> with an ensemble of <paramref name="ensemble"/>; named as <see cref="TinaMethod.DefaultName"/> names it.</summary>
    public TinaEvaluationMethod(DiffusionSampler sampler, int ensemble)
        : base(TinaMethod.DefaultName(new GenerateOptions { Sampler = sampler, EnsembleSize = ensemble }))
    {
        PModelEnsemble.CheckSize(ensemble, nameof(ensemble));
        _sampler = sampler;
        _ensemble = ensemble;
    }

    /// <inheritdoc />
    public override bool UsesGenerator => true;

    /// <summary>The method a name means (<c>tina</c>, <c>tina-ddpm</c>, <c>tina-ens4</c>, <c>tina-ddpm-ens2</c>), or null.</summary>
    public static TinaEvaluationMethod? TryParse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!name.StartsWith("tina", StringComparison.Ordinal)) return null;
        var sampler = name.StartsWith("tina-ddpm", StringComparison.Ordinal) ? DiffusionSampler.Ddpm : DiffusionSampler.Ddim;
        var rest = name[(sampler == DiffusionSampler.Ddpm ? "tina-ddpm" : "tina").Length..];
        if (rest.Length == 0) return new TinaEvaluationMethod(sampler, 1);
        return rest.StartsWith("-ens", StringComparison.Ordinal) && int.TryParse(rest[4..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var k)
            && k is >= 2 and <= PModelEnsemble.MaxMembers && rest[4..] == k.ToString(System.Globalization.CultureInfo.InvariantCulture)
            ? new TinaEvaluationMethod(sampler, k)
            : null;
    }

    /// <inheritdoc />
    public override PAccResult Score(EvaluationContext context, EvaluationGroup group, IProgress<double>? progress, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(group);
        var options = _sampler == DiffusionSampler.Ddpm
            ? new GenerateOptions { Sampler = DiffusionSampler.Ddpm, EnsembleSize = _ensemble }
            : new GenerateOptions { Steps = context.Options.DdimSteps, EnsembleSize = _ensemble };
        using var method = new TinaMethod(context.Generator, options, device: context.Device, prompts: context.ClassPrompts);
        return PAcc.Evaluate(method, group.Tasks, context.Test, progress, cancel);
    }
}

/// <summary>
/// Diagnostic: generated p-Models with one part taken from elsewhere (<see cref="PModelSplice"/>), named
/// <c>body:BODY+classifier:CLASSIFIER</c>, each part <c>tina</c>, <c>finetune</c> (the zoo's fine-tuned p-Model of the
/// task) or <c>classifier-selection</c>, one of them tina. Sampled with <see cref="EvaluationOptions.DdimSteps"/> and
/// <see cref="EvaluationOptions.Ensemble"/>.
/// </summary>
public sealed class SpliceEvaluationMethod : EvaluationMethod
{
    /// <summary>The parts a splice takes.</summary>
    public static IReadOnlyList<string> Parts { get; } = ["tina", FineTunedMethod.Name, "classifier-selection"];

    private SpliceEvaluationMethod(string body, string classifier) : base($"body:{body}+classifier:{classifier}")
    {
        Body = body;
        Classifier = classifier;
    }

    /// <summary>Where the convolutions come from.</summary>
    public string Body { get; }

    /// <summary>Where the classifier rows come from.</summary>
    public string Classifier { get; }

    /// <inheritdoc />
    public override string? NeedsZoo => Body == FineTunedMethod.Name || Classifier == FineTunedMethod.Name ? "the fine-tuned p-Models" : null;

    /// <inheritdoc />
    public override bool ReadsFineTunedModels => NeedsZoo is not null;

    /// <inheritdoc />
    public override bool UsesGenerator => true;

    /// <summary>
    /// The splice of a <c>BODY/CLASSIFIER</c> pair (as <c>tina eval --splice</c> takes it), checked; a pair with a
    /// finetune part needs <paramref name="hasZoo"/>.
    /// </summary>
    /// <exception cref="TinaException">Not a pair of parts, no tina part or two, or a finetune part without a zoo.</exception>
    public static SpliceEvaluationMethod Parse(string pair, bool hasZoo)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var parts = pair.ToLowerInvariant().Split('/', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts.Any(p => !Parts.Contains(p)))
            throw new TinaException($"--splice takes BODY/CLASSIFIER pairs, each part one of {string.Join(", ", Parts)}; got '{pair}'.");
        if (!parts.Contains("tina") || parts[0] == parts[1])
            throw new TinaException($"--splice '{pair}': one part must be tina and the other not (tina/tina is the tina method).");
        if (parts.Contains(FineTunedMethod.Name) && !hasZoo)
            throw new TinaException($"--splice '{pair}' needs --zoo DIR (the fine-tuned p-Models).");
        return new SpliceEvaluationMethod(parts[0], parts[1]);
    }

    /// <summary>The splice a name means (<c>body:finetune+classifier:tina</c>), or null.</summary>
    public static SpliceEvaluationMethod? TryParse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        const string body = "body:", classifier = "+classifier:";
        int at = name.IndexOf(classifier, StringComparison.Ordinal);
        if (!name.StartsWith(body, StringComparison.Ordinal) || at < 0) return null;
        string b = name[body.Length..at], c = name[(at + classifier.Length)..];
        return Parts.Contains(b) && Parts.Contains(c) && b != c && (b == "tina" || c == "tina") ? new SpliceEvaluationMethod(b, c) : null;
    }

    /// <inheritdoc />
    public override PAccResult Score(EvaluationContext context, EvaluationGroup group, IProgress<double>? progress, CancellationToken cancel)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(group);
        PModel Part(string source, PersonalizationTask task, PModel generated) => source switch
        {
            "tina" => generated,
            "classifier-selection" => ClassifierSelection.Create(context.Generic, task),
            _ => new PModel(generated.Arch, task.Names, context.FineTunedParameters[task.Prompt], generated.Frozen),
        };
        using var method = new TinaMethod(context.Generator, new GenerateOptions { Steps = context.Options.DdimSteps, EnsembleSize = context.Options.Ensemble }, Name,
            context.Device, context.ClassPrompts, (task, generated) => PModelSplice.Combine(Part(Body, task, generated), Part(Classifier, task, generated)));
        return PAcc.Evaluate(method, group.Tasks, context.Test, progress, cancel);
    }
}

/// <summary>
/// The methods an <see cref="Evaluator"/> knows, by name: fixed names, and families whose names carry a parameter
/// (<c>tina-ensK</c>, <c>body:BODY+classifier:CLASSIFIER</c>). <see cref="CreateDefault"/> has the built-in ones;
/// add your own with <see cref="Register(string, Func{EvaluationMethod})"/>.
/// </summary>
public sealed class EvaluationMethodRegistry
{
    private readonly List<(string Name, Func<string, EvaluationMethod?> Resolve)> _entries = [];

    /// <summary>
    /// A registry of the built-in methods: generic, classifier-selection, finetune, taper-mixer, text-to-rows, tina,
    /// tina-ddpm, their ensembles tina-ensK and tina-ddpm-ensK, and the splices body:BODY+classifier:CLASSIFIER.
    /// </summary>
    public static EvaluationMethodRegistry CreateDefault()
    {
        var r = new EvaluationMethodRegistry();
        r.Register("generic", () => new PersonalizationEvaluationMethod("generic", c => new GenericMethod(c.Generic, c.Test, c.Device)));
        r.Register("classifier-selection", () => new PersonalizationEvaluationMethod("classifier-selection", c => new ClassifierSelectionMethod(c.Generic, c.Test, c.Device)));
        r.Register(FineTunedMethod.Name, () => new FineTunedEvaluationMethod());
        r.Register(TaperMixer.MethodName, () => new PersonalizationEvaluationMethod(TaperMixer.MethodName, c => c.TaperMixer, owned: false,
            needsZoo: "its mixer is trained on the zoo's training tasks", usesTextEncoder: true));
        r.Register(TextToRowsMethod.MethodName, () => new PersonalizationEvaluationMethod(TextToRowsMethod.MethodName,
            c => new TextToRowsMethod(c.Generic, c.TextToRows, c.Embed, c.Test, c.Device), usesTextEncoder: true));
        r.Register("tina", () => new TinaEvaluationMethod(DiffusionSampler.Ddim, 1));
        r.Register("tina-ddpm", () => new TinaEvaluationMethod(DiffusionSampler.Ddpm, 1));
        r.RegisterFamily("tina-ensK, tina-ddpm-ensK", name => name.Contains("-ens", StringComparison.Ordinal) ? TinaEvaluationMethod.TryParse(name) : null);
        r.RegisterFamily("body:BODY+classifier:CLASSIFIER", SpliceEvaluationMethod.TryParse);
        return r;
    }

    /// <summary>The names and families, in registration order (for help texts and errors).</summary>
    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    /// <summary>Registers (or replaces) the method called <paramref name="name"/>.</summary>
    public void Register(string name, Func<EvaluationMethod> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(create);
        var key = name.ToLowerInvariant();
        _entries.RemoveAll(e => e.Name == key);
        _entries.Add((key, n => n == key ? create() : null));
    }

    /// <summary>Registers a family of names: <paramref name="resolve"/> gives the method of a name it knows, or null.</summary>
    /// <param name="description">How the family's names look (e.g. <c>tina-ensK</c>), for help texts and errors.</param>
    /// <param name="resolve">The method of a (lower-case) name, or null when the name is not of the family.</param>
    public void RegisterFamily(string description, Func<string, EvaluationMethod?> resolve)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        ArgumentNullException.ThrowIfNull(resolve);
        _entries.Add((description, resolve));
    }

    /// <summary>The method called <paramref name="name"/> (case-insensitive), or null when no entry knows it.</summary>
    public EvaluationMethod? Resolve(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToLowerInvariant();
        foreach (var (_, resolve) in _entries)
            if (resolve(key) is { } method) return method;
        return null;
    }
}
