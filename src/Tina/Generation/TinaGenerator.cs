using System.Collections.Concurrent;
using Tina.Diffusion;
using Tina.PModels;
using Tina.Tasks;
using Tina.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Generation;

/// <summary>How <see cref="TinaGenerator"/> samples a p-Model.</summary>
public sealed record GenerateOptions
{
    /// <summary>The sampler (default DDIM, deterministic given the seed).</summary>
    public DiffusionSampler Sampler { get; init; } = DiffusionSampler.Ddim;

    /// <summary>Sampling steps; null = the sampler's default (DDIM 50, DDPM all 1,000 as in the paper).</summary>
    public int? Steps { get; init; }

    /// <summary>Seed of the initial noise (and of DDPM's noise). The same seed gives bitwise-identical weights.</summary>
    public long Seed { get; init; }

    /// <summary>Sample with the EMA weights (true) or the raw weights (false; what the paper evaluated).</summary>
    public bool UseEma { get; init; } = true;

    /// <summary>
    /// Members of a seed ensemble (1 to <see cref="PModelEnsemble.MaxMembers"/>; default 1): how many p-Models
    /// <see cref="TinaGenerator.GenerateEnsemble"/> samples per prompt, member m with seed <c>MemberSeeds()[m]</c>.
    /// 1 is plain generation.
    /// </summary>
    public int EnsembleSize { get; init; } = 1;

    /// <summary>The steps actually used.</summary>
    public int ResolvedSteps => Steps ?? (Sampler == DiffusionSampler.Ddpm ? 1000 : 50);

    /// <summary>
    /// The seed of each ensemble member: member 0 uses <see cref="Seed"/> itself (so an ensemble of one is plain
    /// generation), member m ≥ 1 a seed derived from <see cref="Seed"/> and m with <see cref="Runtime.Seeds.Derive"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="EnsembleSize"/> is not 1 to <see cref="PModelEnsemble.MaxMembers"/>.</exception>
    public long[] MemberSeeds()
    {
        PModelEnsemble.CheckSize(EnsembleSize, nameof(EnsembleSize));
        var seeds = new long[EnsembleSize];
        seeds[0] = Seed;
        for (int m = 1; m < seeds.Length; m++)
            seeds[m] = Runtime.Seeds.Derive(unchecked((int)Seed), (int)(Seed >> 32), m, EnsembleStream);
        return seeds;
    }

    /// <summary>A short description for model metadata, e.g. <c>tina ddim-50 seed 0 ema</c> (<c>… ensemble 4</c> for an ensemble).</summary>
    public string Describe() => $"tina {Sampler.ToString().ToLowerInvariant()}-{ResolvedSteps} seed {Seed} {(UseEma ? "ema" : "raw")}"
        + (EnsembleSize == 1 ? "" : $" ensemble {EnsembleSize}");

    /// <summary>Stream id that separates ensemble member seeds from other seeds derived from the same base seed.</summary>
    private const int EnsembleStream = 0xE5E;
}

/// <summary>
/// Generates personalized classifiers from text: loads a checkpoint written by <see cref="TinaTrainer"/>, validates a
/// prompt (2 to K distinct class names), embeds each class (the embeddings stored with the checkpoint for the zoo's
/// class names; the text encoder, when given, for any other words), pads the prompt with '&lt;-&gt;', samples the
/// p-Model parameters with DDIM or DDPM and returns a <see cref="PModel"/> (for ResNet-20 with the generic model's
/// frozen backbone, stored in the checkpoint). Thread-safe: the networks are in eval mode and never modified, every
/// call samples under its own no-grad scope with its own seeded generator, so calls from several threads at once give
/// the same results as sequential calls.
/// </summary>
public sealed class TinaGenerator : IDisposable
{
    private readonly TinaTransformer _ema;
    // The raw weights are sampled from only on request (GenerateOptions.UseEma false): built on first use.
    private readonly Lazy<TinaTransformer> _raw;
    private readonly ParameterNormalizer _normalizer;
    private readonly SequencePadding _padding;
    private readonly GaussianDiffusion _diffusion = new();
    private readonly IReadOnlyDictionary<string, NamedTensor>? _frozen;
    private readonly ConcurrentDictionary<string, float[]> _embeddings;
    private readonly float[] _pad;
    private ITextEncoder? _encoder;
    private readonly Func<string, ITextEncoder>? _openEncoder;
    private bool _ownsEncoder;
    private readonly Lock _encoderLock = new();
    private readonly Dictionary<string, string> _storedByKey = new(StringComparer.Ordinal);
    private readonly TextToRowsStart? _start;

    private TinaGenerator(TinaCheckpointState state, string dir, Lazy<TinaTransformer> raw, TinaTransformer ema, ParameterNormalizer normalizer,
        SequencePadding padding, IReadOnlyDictionary<string, NamedTensor>? frozen, ConcurrentDictionary<string, float[]> embeddings,
        float[] pad, ITextEncoder? encoder, Func<string, ITextEncoder>? openEncoder, Device device, TextToRowsStart? start)
    {
        _openEncoder = openEncoder;
        _start = start;
        State = state;
        CheckpointDir = dir;
        _raw = raw;
        _ema = ema;
        _normalizer = normalizer;
        _padding = padding;
        _frozen = frozen;
        _embeddings = embeddings;
        _pad = pad;
        _encoder = encoder;
        Device = device;
        foreach (var stored in state.TextNames.AsSpan(0, state.TextNames.Length - 1))
            _storedByKey.TryAdd(ClassList.Key(stored), stored);
    }

    /// <summary>The checkpoint's state (config, options, epochs, loss curve).</summary>
    public TinaCheckpointState State { get; }

    /// <summary>
    /// DDIM steps when the options leave them unset: those of the generator's recipe (<see cref="GeneratorRecipe.DdimSteps"/>;
    /// for a checkpoint that names none, its architecture's): 50, or 2 for resnet18 heads, where DDIM-2 scored 92.65 %
    /// OOD p-Acc on a validation zoo against 92.67 % for DDIM-50, at a 25th of the sampling time (docs/RESULTS.md).
    /// </summary>
    public int DefaultDdimSteps => Recipes.Recorded(State.Recipe, Arch).Generator.DdimSteps;

    /// <summary>
    /// <paramref name="options"/> with the sampling steps filled in (<see cref="DefaultDdimSteps"/> for DDIM, 1,000 for
    /// DDPM), so the steps a classifier records are the ones it was sampled with.
    /// </summary>
    public GenerateOptions Resolve(GenerateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Steps is not null ? options : options with { Steps = options.Sampler == DiffusionSampler.Ddim ? DefaultDdimSteps : options.ResolvedSteps };
    }

    /// <summary>Tokens in the transformer's sequence (see <see cref="TinaTransformer.SequenceLength"/>): what one denoising step processes per p-Model.</summary>
    public int SequenceLength => _ema.SequenceLength;

    /// <summary>The checkpoint folder.</summary>
    public string CheckpointDir { get; }

    /// <summary><c>sha256:…</c> of the weights file: names this generator in served responses and <c>.tina.json</c> specs (computed once, on first use).</summary>
    public string WeightsSha256 => _weightsSha256 ??= ContentHash.OfFile(Path.Combine(CheckpointDir, State.WeightsFile));

    private string? _weightsSha256;

    /// <summary>The p-Model architecture generated.</summary>
    public PModelArch Arch => _padding.Arch;

    /// <summary>Most classes in one prompt.</summary>
    public int MaxClasses => _padding.MaxClasses;

    /// <summary>The device sampling runs on.</summary>
    public Device Device { get; }

    /// <summary>Id of the text encoder the generator was trained with.</summary>
    public string TextEncoderId => State.TextEncoderId;

    /// <summary>The class names whose embeddings are stored in the checkpoint (usable without a text encoder).</summary>
    public IReadOnlyList<string> StoredClassNames => State.TextNames[..^1];

    /// <summary>
    /// Loads the last committed epoch of the checkpoint in <paramref name="checkpointDir"/>. <paramref name="encoder"/>
    /// (not owned; must have the checkpoint's <see cref="TextEncoderId"/>) is needed only for class names outside the
    /// zoo's; without it such prompts are rejected with <see cref="InvalidPromptException"/>.
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">No checkpoint in the folder.</exception>
    /// <exception cref="CorruptFileException">The checkpoint files are unreadable or inconsistent.</exception>
    /// <exception cref="TinaException">The encoder is not the one the generator was trained with.</exception>
    public static TinaGenerator Load(string checkpointDir, ITextEncoder? encoder = null, Device? device = null) =>
        Load(checkpointDir, encoder, null, device);

    /// <summary>
    /// Loads the last committed epoch of the checkpoint in <paramref name="checkpointDir"/> and resolves its text
    /// encoder itself: the first time a prompt holds a class name outside the zoo's, <paramref name="openEncoder"/> is
    /// called with the checkpoint's <see cref="TextEncoderId"/> and the encoder it returns is kept and owned (disposed
    /// with the generator). Prompts of zoo names never open it.
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">No checkpoint in the folder.</exception>
    /// <exception cref="CorruptFileException">The checkpoint files are unreadable or inconsistent.</exception>
    public static TinaGenerator Load(string checkpointDir, Func<string, ITextEncoder> openEncoder, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(openEncoder);
        return Load(checkpointDir, null, openEncoder, device);
    }

    private static TinaGenerator Load(string checkpointDir, ITextEncoder? encoder, Func<string, ITextEncoder>? openEncoder, Device? device)
    {
        checkpointDir = Path.GetFullPath(checkpointDir);
        var state = TinaCheckpoint.Load(checkpointDir);
        if (encoder is not null && encoder.Id != state.TextEncoderId)
            throw new TinaException($"The generator in {checkpointDir} was trained with the text encoder {state.TextEncoderId}, not {encoder.Id}.");
        device ??= CPU;
        var weights = TinaWeights.Load(checkpointDir, state);
        var weightsPath = Path.Combine(checkpointDir, state.WeightsFile);
        var arch = PModelArchNames.Parse(state.Arch);
        var padding = new SequencePadding(arch, state.Config.MaxClasses);
        var tokenizer = new ParameterTokenizer(padding.Layout, state.Config.ChunkSize, state.Config.ClassifierRowTokens);
        var normalizer = ParameterNormalizer.FromJson(state.Normalizer, Path.Combine(checkpointDir, TinaCheckpoint.StateFile));

        TinaTransformer Build(IReadOnlyDictionary<string, NamedTensor> tensors)
        {
            // Its weights come from the checkpoint, but TorchSharp's layer constructors still draw from torch's
            // process-wide generator: build it under the seed lock so it never interleaves with a seeded construction.
            var m = Runtime.Seeds.WithGlobalSeed(0, () => new TinaTransformer(state.Config, tokenizer, 0));
            StateDict.Import(m, tensors, weightsPath);
            m.to(device);
            m.eval();
            foreach (var p in m.parameters()) p.requires_grad = false;
            return m;
        }
        var ema = Build(weights.Ema);
        var raw = new Lazy<TinaTransformer>(() => Build(weights.Model), LazyThreadSafetyMode.ExecutionAndPublication);

        int d = state.Config.TextDim;
        var table = weights.TextEmbeddings.Data;
        var embeddings = new ConcurrentDictionary<string, float[]>(StringComparer.Ordinal);
        for (int i = 0; i < state.TextNames.Length - 1; i++)
            embeddings[state.TextNames[i]] = table.AsSpan(i * d, d).ToArray();
        var pad = table.AsSpan((state.TextNames.Length - 1) * d, d).ToArray();
        var start = weights.StartMap is { } map ? new TextToRowsStart(map, weights.StartTable!, state.TextNames[..^1]) : null;
        return new TinaGenerator(state, checkpointDir, raw, ema, normalizer, padding, weights.Frozen, embeddings, pad, encoder, openEncoder, device, start);
    }

    /// <summary>
    /// Generates the p-Model of one prompt, given as its class names in output order. The names are parsed by
    /// <see cref="ClassList.Parse(IEnumerable{string?}, int)"/> (an item "apple; pear" is two classes); the labels are
    /// the parsed names.
    /// </summary>
    /// <exception cref="InvalidPromptException">Empty or a single class, more than <see cref="MaxClasses"/> classes, duplicates, invalid names, or words that cannot be encoded.</exception>
    /// <exception cref="ArgumentException">The options ask for an ensemble (use <see cref="GenerateEnsemble"/>).</exception>
    public PModel Generate(IReadOnlyList<string> classes, GenerateOptions? options = null) => Generate([classes], options)[0];

    /// <summary>
    /// Generates the p-Model of a prompt text such as <c>"apple, pear, orange"</c> (classes separated by commas,
    /// semicolons or line breaks; see <see cref="ClassList"/>).
    /// </summary>
    /// <exception cref="InvalidPromptException">Empty or a single class, more than <see cref="MaxClasses"/> classes, duplicates, invalid names, or words that cannot be encoded.</exception>
    public PModel Generate(string prompt, GenerateOptions? options = null) => Generate([ClassList.Parse(prompt, MaxClasses)], options)[0];

    /// <summary>
    /// Generates the p-Models of several prompts in one batched sampling call (one noise draw of [B, P] from the
    /// seed, so prompt i of a batch is not the same sample as prompt i alone).
    /// </summary>
    /// <exception cref="InvalidPromptException">A prompt is invalid; the message names it (its position in the batch when there are several).</exception>
    /// <exception cref="ArgumentException">The options ask for an ensemble (use <see cref="GenerateEnsembles(IReadOnlyList{IReadOnlyList{string}}, GenerateOptions?)"/>).</exception>
    public IReadOnlyList<PModel> Generate(IReadOnlyList<IReadOnlyList<string>> prompts, GenerateOptions? options = null)
    {
        options ??= new GenerateOptions();
        if (options.EnsembleSize != 1)
            throw new ArgumentException($"The options ask for an ensemble of {options.EnsembleSize} p-Models per prompt; call {nameof(GenerateEnsemble)} or {nameof(GenerateEnsembles)}, or set {nameof(GenerateOptions.EnsembleSize)} = 1.", nameof(options));
        return Sample(Clean(prompts), [options.Seed], options)[0];
    }

    /// <summary>
    /// Generates a seed ensemble for one prompt: <see cref="GenerateOptions.EnsembleSize"/> p-Models, member m sampled
    /// with seed <see cref="GenerateOptions.MemberSeeds"/>[m], all in one batched sampling run. An ensemble of one is
    /// the p-Model <see cref="Generate(IReadOnlyList{string}, GenerateOptions?)"/> gives for the same seed, bit for bit.
    /// </summary>
    /// <exception cref="InvalidPromptException">The prompt is invalid.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The ensemble size is not 1 to <see cref="PModelEnsemble.MaxMembers"/>.</exception>
    public PModelEnsemble GenerateEnsemble(IReadOnlyList<string> classes, GenerateOptions? options = null) => GenerateEnsembles([classes], options)[0];

    /// <summary>
    /// Generates a seed ensemble for each of several prompts in one batched sampling run: the batch of prompts is
    /// sampled once per member, draw m with seed <see cref="GenerateOptions.MemberSeeds"/>[m] (one noise draw of [B, P]
    /// per member seed, as <see cref="Generate(IReadOnlyList{IReadOnlyList{string}}, GenerateOptions?)"/> draws from
    /// its seed; member 0 of each ensemble is what that call gives).
    /// </summary>
    /// <exception cref="InvalidPromptException">A prompt is invalid; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The ensemble size is not 1 to <see cref="PModelEnsemble.MaxMembers"/>.</exception>
    public IReadOnlyList<PModelEnsemble> GenerateEnsembles(IReadOnlyList<IReadOnlyList<string>> prompts, GenerateOptions? options = null) =>
        Ensembles(Clean(prompts), options ?? new GenerateOptions());

    /// <summary>
    /// Generates a seed ensemble for each of several prompts whose classes carry their own conditioning texts (a class
    /// name, or a description of the class; <see cref="ClassPrompt"/>); the p-Models' labels are the classes' labels.
    /// With every text equal to its label this is <see cref="GenerateEnsembles(IReadOnlyList{IReadOnlyList{string}}, GenerateOptions?)"/>.
    /// </summary>
    /// <exception cref="InvalidPromptException">A prompt is invalid, or a text cannot be encoded; the message names it.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The ensemble size is not 1 to <see cref="PModelEnsemble.MaxMembers"/>.</exception>
    public IReadOnlyList<PModelEnsemble> GenerateEnsembles(IReadOnlyList<IReadOnlyList<ClassPrompt>> prompts, GenerateOptions? options = null) =>
        Ensembles(Clean(prompts), options ?? new GenerateOptions());

    /// <summary>
    /// As <see cref="GenerateEnsembles(IReadOnlyList{IReadOnlyList{ClassPrompt}}, GenerateOptions?)"/>, stopping with an
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled (checked before
    /// the text is encoded and before every diffusion step; the same bytes as without a token otherwise).
    /// </summary>
    /// <exception cref="InvalidPromptException">A prompt is invalid, or a text cannot be encoded; the message names it.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public IReadOnlyList<PModelEnsemble> GenerateEnsembles(IReadOnlyList<IReadOnlyList<ClassPrompt>> prompts, GenerateOptions? options, CancellationToken cancellationToken) =>
        Ensembles(Clean(prompts), options ?? new GenerateOptions(), cancellationToken);

    /// <summary>
    /// Generates the p-Model of one prompt whose classes carry their own conditioning texts (<see cref="ClassPrompt"/>),
    /// e.g. descriptions instead of names.
    /// </summary>
    /// <exception cref="InvalidPromptException">The prompt is invalid, or a text cannot be encoded.</exception>
    /// <exception cref="ArgumentException">The options ask for an ensemble.</exception>
    public PModel Generate(IReadOnlyList<ClassPrompt> classes, GenerateOptions? options = null)
    {
        options ??= new GenerateOptions();
        if (options.EnsembleSize != 1)
            throw new ArgumentException($"The options ask for an ensemble of {options.EnsembleSize} p-Models per prompt; call {nameof(GenerateEnsembles)}, or set {nameof(GenerateOptions.EnsembleSize)} = 1.", nameof(options));
        return Sample(Clean([classes]), [options.Seed], options)[0][0];
    }

    /// <summary>The ensembles of checked prompts: the batch sampled once per member seed, member m from draw m.</summary>
    private PModelEnsemble[] Ensembles(List<ClassPrompt[]> cleaned, GenerateOptions options, CancellationToken cancellationToken = default)
    {
        var seeds = options.MemberSeeds();
        var draws = Sample(cleaned, seeds, options, cancellationToken);
        return Enumerable.Range(0, cleaned.Count).Select(i => new PModelEnsemble(draws.Select(d => d[i]).ToArray(), seeds)).ToArray();
    }

    /// <summary>Class lists parsed by <see cref="ClassList"/> (an item "apple; pear" is two classes), each class conditioned on its name.</summary>
    private List<ClassPrompt[]> Clean(IReadOnlyList<IReadOnlyList<string>> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return prompts.Select((p, i) => InBatch(i, prompts.Count, () => AtLeastTwo([.. ClassList.Parse(p, MaxClasses).Select(ClassPrompt.OfName)]))).ToList();
    }

    /// <summary>Prompts of classes with their own texts, checked by <see cref="ClassPrompt.Check"/>.</summary>
    private List<ClassPrompt[]> Clean(IReadOnlyList<IReadOnlyList<ClassPrompt>> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return prompts.Select((p, i) => InBatch(i, prompts.Count, () => AtLeastTwo(ClassPrompt.Check(p, MaxClasses)))).ToList();
    }

    private ClassPrompt[] AtLeastTwo(ClassPrompt[] classes)
    {
        CheckClassCount(classes.Select(c => c.Label).ToArray());
        return classes;
    }

    /// <summary>
    /// Refuses a class list this generator cannot make a classifier of: more than <see cref="MaxClasses"/> classes, or
    /// a single class — a classifier of one class always answers it, and a one-class prompt is most often a list typed
    /// without separators ("apple pear orange" is one class name), which the message points to.
    /// </summary>
    /// <exception cref="InvalidPromptException">Fewer than 2 or more than <see cref="MaxClasses"/> classes.</exception>
    public void CheckClassCount(IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Count == 1)
            throw new InvalidPromptException($"A classifier needs at least 2 classes; the prompt has 1, '{classes[0]}'. " +
                "Separate class names with commas, semicolons or new lines, e.g. \"apple, pear, orange\".");
        if (classes.Count == 0 || classes.Count > MaxClasses)
            throw new InvalidPromptException($"The class list has {classes.Count} classes; this generator takes 2 to {MaxClasses}.");
    }

    /// <summary>Checks prompt <paramref name="index"/> of <paramref name="count"/>; with several, an error names its position.</summary>
    private static ClassPrompt[] InBatch(int index, int count, Func<ClassPrompt[]> check)
    {
        try { return check(); }
        catch (InvalidPromptException e) when (count > 1)
        {
            throw new InvalidPromptException($"Prompt {index + 1} of {count}: {e.Message}");
        }
    }

    /// <summary>
    /// Samples the prompts once per seed in one diffusion run (rows seed-major: draw m of prompt i is row m·B + i) and
    /// returns draw m's p-Models at index m.
    /// </summary>
    private PModel[][] Sample(List<ClassPrompt[]> cleaned, long[] seeds, GenerateOptions options, CancellationToken cancellationToken = default)
    {
        if (cleaned.Count == 0) return seeds.Select(_ => Array.Empty<PModel>()).ToArray();
        int b = cleaned.Count;
        var rows = SampleRows(Enumerable.Repeat(cleaned, seeds.Length).SelectMany(c => c).ToList(), seeds, options, cancellationToken);
        return Enumerable.Range(0, seeds.Length).Select(m => rows.AsSpan(m * b, b).ToArray()).ToArray();
    }

    /// <summary>
    /// Generates one p-Model per prompt, prompt i with its own seed <paramref name="seeds"/>[i], in one batched
    /// sampling run: row i draws all its noise from its own seed, so each p-Model is the sample that prompt and seed give
    /// alone (up to the rounding of batched matrix products). A server batches concurrent requests this way.
    /// </summary>
    /// <exception cref="InvalidPromptException">A prompt is invalid; the message names it.</exception>
    /// <exception cref="ArgumentException">The counts of prompts and seeds differ, or the options ask for an ensemble.</exception>
    public IReadOnlyList<PModel> GenerateEach(IReadOnlyList<IReadOnlyList<string>> prompts, IReadOnlyList<long> seeds, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(seeds);
        options ??= new GenerateOptions();
        if (prompts.Count != seeds.Count) throw new ArgumentException($"Give one seed per prompt: {prompts.Count} prompts, {seeds.Count} seeds.", nameof(seeds));
        if (options.EnsembleSize != 1) throw new ArgumentException("GenerateEach makes one p-Model per prompt; set EnsembleSize = 1.", nameof(options));
        if (prompts.Count == 0) return [];
        var cleaned = Clean(prompts);
        return SampleRows(cleaned, [.. seeds], options);
    }

    /// <summary>
    /// Samples <paramref name="rows"/> (parsed prompts) in one diffusion run, the rows split into
    /// <c>blockSeeds.Length</c> equal blocks of consecutive rows, block g drawing its noise from seed
    /// <paramref name="blockSeeds"/>[g].
    /// </summary>
    private PModel[] SampleRows(List<ClassPrompt[]> rows, long[] blockSeeds, GenerateOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        // libtorch's thread count is per thread: apply the process's (TINA_THREADS) here, so that a prompt and seed give
        // the same bits on whichever thread generates them (a server's worker, a thread-pool thread, the main thread).
        Runtime.TorchRuntime.UseOnThisThread();
        // Texts are encoded (or looked up); classes that bring their own vector (image prompts) use it.
        var encoded = Embed(rows.Select(x => x.Where(c => c.Embedding is null).Select(c => c.Text).ToArray()).ToList());
        var vectors = rows.Select((x, i) =>
        {
            int next = 0;
            return x.Select(c => c.Embedding is { } e
                ? e.Length == State.Config.TextDim ? e : throw new InvalidPromptException($"The conditioning vector of class {ClassList.Show(c.Label)} has {e.Length} numbers; this generator's text embeddings have {State.Config.TextDim}.")
                : encoded[i][next++]).ToArray();
        }).ToArray();
        int r = rows.Count, k = MaxClasses, d = State.Config.TextDim, p = _padding.Layout.Count;
        var tokenData = new float[r * k * d];
        for (int i = 0; i < r; i++)
            for (int s = 0; s < k; s++)
                (s < rows[i].Length ? vectors[i][s] : _pad).CopyTo(tokenData, (i * k + s) * d);
        var counts = rows.Select(c => c.Length).ToArray();
        float[] result;
        // Built (the raw weights on first use) before the dispose scope below, which would dispose a model made in it.
        var model = options.UseEma ? _ema : _raw.Value;
        var generators = blockSeeds.Select(seed => new Generator((ulong)seed, CPU)).ToList();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            // tensor(float[]) wraps the managed array, whose address (alignment) changes from call to call, and MKL's
            // matrix products over several rows round differently for different alignments: a batched call would not
            // give the same bits twice. The clone is libtorch-allocated (64-byte aligned). A single prompt, whose
            // products have one row, gives the same bits with or without it.
            var tokens = tensor(tokenData, [r, k, d]).clone().to(Device);
            var mask = _padding.MaskTensor(counts).to(Device);
            var y = _diffusion.Sample(model, tokens, options.Sampler, Resolve(options).ResolvedSteps, generators, mask, cancellationToken);
            var x = _normalizer.Denormalize(y, mask).cpu().contiguous();
            result = x.data<float>().ToArray();
        }
        finally
        {
            foreach (var g in generators) g.Dispose();
        }
        return Enumerable.Range(0, r).Select(i =>
        {
            var padded = result.AsSpan(i * p, p).ToArray();
            // Rows relative to text-to-rows: add back each class's start (a stored name's is the one it was trained against).
            if (_start is { } start)
                for (int s = 0; s < rows[i].Length; s++)
                {
                    var c = rows[i][s];
                    string? stored = c.Embedding is null && _storedByKey.TryGetValue(ClassList.Key(c.Text), out var name) ? name : null;
                    TextToRowsStart.Add(padded, _padding.Layout, s, start.For(stored, vectors[i][s]), 1f);
                }
            return _padding.ToPModel(padded, rows[i].Select(c => c.Label).ToArray(), _frozen);
        }).ToArray();
    }

    /// <summary>The names of <paramref name="classes"/> that need the text encoder (not stored with the checkpoint and not encoded yet).</summary>
    public IReadOnlyList<string> UnknownClasses(IEnumerable<string> classes) =>
        classes.Select(c => c.Trim()).Where(c => c.Length > 0 && Lookup(c) is null).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The embedding of every class of every prompt: stored ones first, the encoder (once per new name) for the rest.</summary>
    private float[][][] Embed(List<string[]> prompts)
    {
        var missing = prompts.SelectMany(x => x).Where(c => Lookup(c) is null).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            float[][] v;
            lock (_encoderLock)
            {
                if (_encoder is null && _openEncoder is not null)
                {
                    var opened = _openEncoder(State.TextEncoderId);
                    if (opened.Id != State.TextEncoderId)
                    {
                        opened.Dispose();
                        throw new TinaException($"The generator in {CheckpointDir} was trained with the text encoder {State.TextEncoderId}, but {opened.Id} was opened for it.");
                    }
                    (_encoder, _ownsEncoder) = (opened, true);
                }
                if (_encoder is null)
                    throw new InvalidPromptException($"Unknown class name(s) {string.Join(", ", missing.Select(m => $"'{m}'"))}: without the text encoder ({State.TextEncoderId}) only the {StoredClassNames.Count} class names of the training zoo can be used.");
                v = _encoder.Encode(missing); // throws InvalidPromptException for words it does not know
            }
            for (int i = 0; i < missing.Count; i++) _embeddings.TryAdd(missing[i], v[i]);
        }
        return prompts.Select(x => x.Select(c => Lookup(c)!).ToArray()).ToArray();
    }

    private float[]? Lookup(string name)
    {
        if (_embeddings.TryGetValue(name, out var v)) return v;
        // A zoo's names may use underscores ("aquarium_fish"): match them as ClassList does (any case, '_' = ' ').
        return _storedByKey.TryGetValue(ClassList.Key(name), out var stored) ? _embeddings[stored] : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_raw.IsValueCreated) _raw.Value.Dispose();
        _ema.Dispose();
        lock (_encoderLock)
            if (_ownsEncoder) _encoder?.Dispose();
    }
}
