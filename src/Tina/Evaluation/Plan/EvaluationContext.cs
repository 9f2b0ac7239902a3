using Tina.Data;
using Tina.Generation;
using Tina.Generic;
using Tina.PModels;
using Tina.Taper;
using Tina.Tasks;
using Tina.Text;
using Tina.Zoo;
using static TorchSharp.torch;

namespace Tina.Evaluation.Plan;

/// <summary>
/// What the methods of one evaluation share: the options, the generic model, the images scored, the zoo, and what is
/// opened or trained once for all groups (the generator, the text encoder, TAPER-Mixer, the text-to-rows map, the
/// fine-tuned p-Models). Those open on first use; <see cref="Evaluator"/> opens the ones its methods need before
/// scoring, in a fixed order. Disposing it disposes everything it opened.
/// </summary>
public sealed class EvaluationContext : IDisposable
{
    private TinaGenerator? _generator;
    private ITextEncoder? _text;
    private TaperMixer? _taper;
    private TextToRows? _textToRows;
    private Dictionary<string, float[]>? _fineTuned;
    private Func<PersonalizationTask, IReadOnlyList<ClassPrompt>>? _classPrompts;
    private bool _classPromptsReady;

    internal EvaluationContext(EvaluationOptions options, EvaluationEnvironment environment, Device device, GenericModel generic, string genericModelPath,
        ImageDataset dataset, ZooManifest? zoo, CancellationToken cancel)
    {
        Options = options;
        Environment = environment;
        Device = device;
        Generic = generic;
        GenericModelPath = genericModelPath;
        Dataset = dataset;
        Zoo = zoo;
        Cancel = cancel;
        TextOf = ClassTexts(options.PromptKind, dataset, options.ClassTextsFile);
    }

    /// <summary>The evaluation's options.</summary>
    public EvaluationOptions Options { get; }

    /// <summary>Where things are opened and progress goes.</summary>
    public EvaluationEnvironment Environment { get; }

    /// <summary>Device the methods run on.</summary>
    public Device Device { get; }

    /// <summary>The generic model (owned by the context).</summary>
    public GenericModel Generic { get; }

    /// <summary>File the generic model was loaded from.</summary>
    public string GenericModelPath { get; }

    /// <summary>The dataset whose <see cref="ImageDataset.Test"/> is scored (a zoo's validation split, or another dataset's photos, in its place when asked for).</summary>
    public ImageDataset Dataset { get; }

    /// <summary>The images every method is scored on.</summary>
    public ImageSet Test => Dataset.Test;

    /// <summary>The zoo, or null.</summary>
    public ZooManifest? Zoo { get; }

    /// <summary>Cancels the evaluation.</summary>
    public CancellationToken Cancel { get; }

    /// <summary>The text each class name is conditioned on (a <see cref="EvaluationOptions.ClassTextsFile"/> text or its built-in description); null: the names themselves.</summary>
    public Func<string, string>? TextOf { get; }

    /// <summary>The generator, opened on first use.</summary>
    /// <exception cref="TinaException">No <see cref="EvaluationOptions.Generator"/> was given.</exception>
    public TinaGenerator Generator => _generator ??= Environment.OpenGenerator(Options.Generator
        ?? throw new TinaException("Give the Tina checkpoint folder: --generator DIR (written by tina train)."));

    /// <summary>
    /// What the tina methods condition each task's classes on: image-shot embeddings (<see cref="EvaluationOptions.ImageShots"/>),
    /// texts (<see cref="TextOf"/>), or null for the names.
    /// </summary>
    public Func<PersonalizationTask, IReadOnlyList<ClassPrompt>>? ClassPrompts
    {
        get
        {
            if (_classPromptsReady) return _classPrompts;
            var textOf = TextOf;
            _classPrompts = Options.ImageShots > 0 ? ImageShotPrompts()
                : textOf is null ? null : task => task.Names.Select(n => new ClassPrompt(n, textOf(n))).ToList();
            _classPromptsReady = true;
            return _classPrompts;
        }
    }

    /// <summary>The environment's text encoder, opened on first use.</summary>
    public ITextEncoder TextEncoder => _text ??= Environment.OpenTextEncoder();

    /// <summary>Embeds class names (or their <see cref="TextOf"/> texts) with <see cref="TextEncoder"/>.</summary>
    public Func<IReadOnlyList<string>, float[][]> Embed => names => TextEncoder.Encode(names.Select(n => TextOf?.Invoke(n) ?? n).ToList());

    /// <summary>TAPER-Mixer: experts and mixer trained once, on all of the zoo's training tasks, on first use.</summary>
    public TaperMixer TaperMixer => _taper ??= Environment.Stage("TAPER-Mixer (experts, then mixer)", p =>
        TaperMixer.Train(Generic, Dataset, FineTunedMethod.Tasks(Zoo ?? throw new TinaException($"--methods {TaperMixer.MethodName} needs --zoo DIR (its mixer is trained on the zoo's training tasks)."), "train"),
            TextEncoder, new TaperMixerOptions(), p, Cancel, TextOf));

    /// <summary>
    /// The text → row map of text-to-rows, fitted on first use on the rows of the classes the zoo's training tasks use
    /// (all classes without a zoo) from their <em>names</em>, as a name-trained generator is; the method then applies it
    /// to the scored texts (<see cref="Embed"/>: descriptions, <c>--class-texts</c> words or names). Fitting it on the
    /// scored texts instead would fit it on the very descriptions (and, every class seen, the very rows) it is asked
    /// for. A note says what was fitted.
    /// </summary>
    public TextToRows TextToRows
    {
        get
        {
            if (_textToRows is not null) return _textToRows;
            var seen = Zoo is null ? Enumerable.Range(0, Dataset.NumClasses).ToList()
                : FineTunedMethod.Tasks(Zoo, "train").SelectMany(t => t.Classes).Distinct().Order().ToList();
            _textToRows = TextToRows.Fit(Generic, Dataset, seen, names => TextEncoder.Encode(names));
            Note($"text-to-rows: ridge map from {TextEncoder.Id} to rows, fitted on {seen.Count} classes' names; λ {_textToRows.Lambda} chosen by 5-fold cross-validation over them (row error {_textToRows.ValidationError:G3}).");
            return _textToRows;
        }
    }

    /// <summary>The parameters of the zoo's fine-tuned p-Models, by task prompt, read on first use.</summary>
    public IReadOnlyDictionary<string, float[]> FineTunedParameters => _fineTuned ??= ZooReader.ReadAll(Options.Zoo
            ?? throw new TinaException("The fine-tuned p-Models need --zoo DIR."), out _)
        .GroupBy(e => e.AsTask().Prompt, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Parameters, StringComparer.Ordinal);

    /// <summary>The notes shown so far (<see cref="EvaluationEnvironment.Note"/>), in order.</summary>
    public IReadOnlyList<string> Notes => _notes;

    private readonly List<string> _notes = [];

    /// <summary>Keeps <paramref name="line"/> for the report and shows it through the environment.</summary>
    public void Note(string line)
    {
        _notes.Add(line);
        Environment.Note(line);
    }

    /// <summary>Disposes what the context opened and the generic model.</summary>
    public void Dispose()
    {
        _taper?.Dispose();
        (_text as IDisposable)?.Dispose();
        _generator?.Dispose();
        Generic.Dispose();
    }

    /// <summary>
    /// The text of each class name for the text-conditioned methods: null for the names themselves; the
    /// <paramref name="classTextsFile"/>'s text (the name when absent); or with descriptions, the built-in description.
    /// </summary>
    private static Func<string, string>? ClassTexts(PromptKind kind, ImageDataset dataset, string? classTextsFile)
    {
        if (classTextsFile is not null)
        {
            // Every class of the file must be one of the dataset's (its synonyms accepted: "maple tree" for CIFAR-100's
            // "maple"); a class the file leaves out keeps its name. A line for a class the dataset lacks is a typo that
            // would otherwise go unnoticed, the class then scored on its name.
            var byLabel = new Dictionary<int, string>();
            foreach (var (name, text) in ClassTextsFile.Read(classTextsFile))
            {
                int label;
                try { label = dataset.ClassIndex(name); }
                catch (InvalidPromptException e) { throw new InvalidPromptException($"{classTextsFile}: {e.Message}"); }
                if (!byLabel.TryAdd(label, text))
                    throw new InvalidPromptException($"{classTextsFile}: the class {ClassName.Show(dataset.ClassNames[label])} has two lines (one of them under another name of it).");
            }
            return n => dataset.TryClassIndex(n) is { } label && byLabel.TryGetValue(label, out var t) ? t : n;
        }
        if (kind != PromptKind.Descriptions) return null;
        var descriptions = ClassDescriptions.LoadBuiltIn(dataset.Name);
        return n => descriptions.TryGetValue(n, out var d) ? d : throw new TinaException($"No built-in description for the class '{n}' of {dataset.Name}.");
    }

    /// <summary>
    /// Image prompts: each class is shown by <see cref="EvaluationOptions.ImageShots"/> of its training images (a seeded
    /// choice, the same for every task), embedded by the projector, which must map into the generator's text space and
    /// read the features of this generic model.
    /// </summary>
    private Func<PersonalizationTask, IReadOnlyList<ClassPrompt>> ImageShotPrompts()
    {
        var projector = ImagePrompts.ImagePromptProjector.Load(Options.Projector ?? ImagePrompts.ImagePromptProjector.DefaultPath(Environment.ArtifactsDir, Dataset.Name, Options.Arch.ToName()))
            .RequireEncoder(Generator.State.TextEncoderId, "the generator");
        if (!string.Equals(Path.GetFullPath(projector.GenericModel), Path.GetFullPath(GenericModelPath), StringComparison.Ordinal))
            throw new TinaException($"The image-prompt projector was fitted on the generic model {projector.GenericModel}, not on {GenericModelPath}; fit one for this generic model (tina image-prompts fit).");
        int shots = Options.ImageShots, seed = Options.Seed;
        var data = Dataset;
        var cache = new Dictionary<int, float[]>();
        float[] Of(int c)
        {
            if (cache.TryGetValue(c, out var v)) return v;
            var idx = data.Train.IndicesOf(new HashSet<int> { c });
            new Random(Runtime.Seeds.Derive(seed, c, 0x1A6E)).Shuffle(idx);
            return cache[c] = projector.Embed(Generic, data.Train, idx.Take(shots).ToArray());
        }
        return task => task.Classes.Select((c, i) => new ClassPrompt(task.Names[i], $"images of {task.Names[i]}") { Embedding = Of(c) }).ToList();
    }
}
