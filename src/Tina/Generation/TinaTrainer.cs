using System.Diagnostics;
using System.Text.Json;
using Tina.Diffusion;
using Tina.Generic;
using Tina.ImagePrompts;
using Tina.PModels;
using Tina.Runtime;
using Tina.Runtime.Optim;
using AdamW = Tina.Runtime.Optim.AdamW;
using Tina.Text;
using Tina.Zoo;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tina.Generation;

/// <summary>What a finished training run produced.</summary>
/// <param name="CheckpointDir">The checkpoint folder (load it with <see cref="TinaGenerator.Load(string, Text.ITextEncoder?, TorchSharp.torch.Device?)"/>).</param>
/// <param name="EpochLoss">Mean training loss of every epoch.</param>
/// <param name="Seconds">Training seconds over all (resumed) runs.</param>
/// <param name="ResumedFromEpoch">Epochs found finished in the folder when this run started.</param>
public sealed record TinaTrainingResult(string CheckpointDir, IReadOnlyList<double> EpochLoss, double Seconds, int ResumedFromEpoch);

/// <summary>
/// Trains Tina's text-conditioned diffusion transformer on the training split of a p-Model zoo (Algorithm 1). The class
/// names of every task and '&lt;-&gt;' are encoded once by the frozen text encoder (through an optional
/// <see cref="EmbeddingCache"/>); each step draws p-Models, applies classifier augmentation and (with some
/// probability) truncates a sample to a prefix of its classes, and minimises the masked x0 loss with AdamW, warm-up +
/// cosine, gradient clipping and an EMA copy of the weights. After each epoch a checkpoint is committed; a killed run
/// given the same folder continues after the last committed epoch and ends with the same weights as an uninterrupted
/// run (data order and noise depend only on the seed and the epoch).
/// </summary>
public sealed class TinaTrainer
{
    private readonly TinaTrainingOptions _options;
    private readonly ITextEncoder _encoder;
    private readonly EmbeddingCache? _cache;
    private readonly ImagePromptPool? _imagePrompts;

    /// <summary>
    /// Creates the trainer; <paramref name="encoder"/> is used (not owned) for the class-name embeddings, and
    /// <paramref name="imagePrompts"/> (needed exactly when <see cref="TinaTrainingOptions.ImagePromptShots"/> is above 0)
    /// for image-prompted class slots.
    /// </summary>
    public TinaTrainer(TinaTrainingOptions options, ITextEncoder encoder, EmbeddingCache? cache = null, ImagePromptPool? imagePrompts = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _cache = cache;
        if ((_options.ImagePromptShots > 0) != (imagePrompts is not null))
            throw new TinaException(imagePrompts is null ? "Training on image prompts needs the projected images (an ImagePromptPool)." : "Image prompts were given but ImagePromptShots is 0.");
        if (imagePrompts is not null && imagePrompts.Dimension != encoder.Dimension)
            throw new TinaException($"The image prompts are {imagePrompts.Dimension}-d; the text encoder {encoder.Id} gives {encoder.Dimension}-d vectors.");
        _imagePrompts = imagePrompts;
    }

    /// <summary>Trains (or resumes training) on the zoo in <paramref name="zooDir"/>, writing checkpoints to <paramref name="checkpointDir"/>.</summary>
    /// <exception cref="TinaException">The zoo has no training p-Models, or the folder holds a checkpoint made with other settings.</exception>
    public TinaTrainingResult Train(string zooDir, string checkpointDir, IProgress<TinaTrainingProgress>? progress = null, CancellationToken cancel = default) =>
        Train(Path.GetFullPath(zooDir), ZooManifest.Load(zooDir), null, checkpointDir, progress, cancel);

    /// <summary>
    /// <see cref="Train(string, string, IProgress{TinaTrainingProgress}?, CancellationToken)"/> on a zoo whose manifest is
    /// already read; <paramref name="generic"/>, when it is already loaded from the file the zoo names, is used (not owned)
    /// instead of reading that file again.
    /// </summary>
    internal TinaTrainingResult Train(string zooDir, ZooManifest manifest, (string Path, GenericModel Model)? generic, string checkpointDir,
        IProgress<TinaTrainingProgress>? progress, CancellationToken cancel)
    {
        var o = _options;
        checkpointDir = Path.GetFullPath(checkpointDir);
        using var zoo = Prepare(Path.GetFullPath(zooDir), manifest, generic);
        Directory.CreateDirectory(checkpointDir);
        using var run = new TrainingRun(o, zoo);
        if (TinaCheckpoint.Exists(checkpointDir)) Resume(run, checkpointDir, progress);
        else if (o.InitFrom is { } init) Initialize(run, init);
        run.Clock.Start();
        for (int epoch = run.StartEpoch; epoch < o.Epochs; epoch++)
        {
            run.EpochLoss.Add(TrainEpoch(run, epoch, progress, cancel));
            if ((epoch + 1) % o.CheckpointEvery == 0 || epoch + 1 == o.Epochs) Save(run, checkpointDir, epoch + 1);
        }
        return new TinaTrainingResult(checkpointDir, run.EpochLoss, run.Seconds, run.StartEpoch);
    }

    /// <summary>
    /// The class texts keyed by the zoo's class names: a line may name a class by one of the dataset's synonyms of it
    /// ("maple tree" for CIFAR-100's "maple"); a line for a class that no task of the zoo holds is refused (it would
    /// be skipped without a word, and a typo would train the class on its bare name).
    /// </summary>
    private static Dictionary<string, string> ResolveClassTexts(IReadOnlyDictionary<string, string> given, ZooManifest manifest, string zooDir)
    {
        var byKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in manifest.Tasks.SelectMany(t => t.Names)) byKey.TryAdd(Data.ClassName.Key(name), name);
        if (Data.DatasetCatalog.TryResolve(manifest.Dataset, out var dataset))
            foreach (var (a, b) in dataset.ClassSynonyms)
            {
                if (byKey.TryGetValue(Data.ClassName.Key(a), out var named)) byKey.TryAdd(Data.ClassName.Key(b), named);
                else if (byKey.TryGetValue(Data.ClassName.Key(b), out named)) byKey.TryAdd(Data.ClassName.Key(a), named);
            }
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        foreach (var (name, text) in given)
        {
            if (!byKey.TryGetValue(Data.ClassName.Key(name), out var zooName)) unknown.Add(Data.ClassName.Show(name));
            else if (!resolved.TryAdd(zooName, text))
                throw new InvalidPromptException($"The class texts give {Data.ClassName.Show(zooName)} twice (one line under another name of it).");
        }
        if (unknown.Count > 0)
            throw new InvalidPromptException($"The class texts name {string.Join(", ", unknown.Take(5))}{(unknown.Count > 5 ? $" and {unknown.Count - 5} more" : "")}, which no task of the zoo {zooDir} holds.");
        return resolved;
    }

    /// <summary>
    /// Reads the zoo's training p-Models and turns them into training tensors: the parameter vectors padded to the
    /// class slots and normalised, one text token per slot (the class's embedding, '&lt;-&gt;' after the last class),
    /// the text table stored with every checkpoint and, for ResNet-20, the generic model's frozen backbone.
    /// </summary>
    private PreparedZoo Prepare(string zooDir, ZooManifest manifest, (string Path, GenericModel Model)? loaded)
    {
        var o = _options;
        var device = o.Device ?? CPU;
        var entries = ZooReader.ReadAll(zooDir, manifest).Where(e => e.Task.Split == "train").ToList();
        if (o.NeuronPermutation && PModelArchNames.Parse(manifest.Arch) != PModelArch.Cnn5k)
            throw new TinaException($"Neuron-permutation augmentation needs a CNN-5K zoo; the {manifest.Arch} heads of {zooDir} have no hidden neurons to permute.");
        if (entries.Count == 0) throw new TinaException($"The zoo {zooDir} has no finished training p-Models yet; build it first (tina zoo build).");
        if (!o.ClassificationSequencePadding)
        {
            // The ablation: only full-length tasks, so no sequence is ever padded.
            entries = entries.Where(e => e.Task.Names.Length == o.MaxClasses).ToList();
            if (entries.Count == 0) throw new TinaException($"Without sequence padding the generator trains only on tasks of {o.MaxClasses} classes, and the zoo {zooDir} has none.");
        }
        var arch = PModelArchNames.Parse(manifest.Arch);
        int zooClasses = manifest.ClassesPerTask;          // the largest task of the zoo
        var entryClasses = entries.Select(e => e.Task.Names.Length).ToArray();
        if (zooClasses > o.MaxClasses) throw new TinaException($"The zoo's tasks have {zooClasses} classes, more than the {o.MaxClasses} class slots; raise MaxClasses.");
        var padding = new SequencePadding(arch, o.MaxClasses);

        // Text embeddings: every conditioning text once (class names, descriptions or both), then '<->'.
        var names = entries.SelectMany(e => e.Task.Names).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var descriptions = o.Prompts == PromptKind.Names ? null : Describe(o.Descriptions ?? ClassDescriptions.LoadBuiltIn(manifest.Dataset), manifest.Dataset, names);
        var texts = (o.Prompts switch
        {
            PromptKind.Names => names,
            PromptKind.Descriptions => descriptions!.Values,
            _ => names.Concat(descriptions!.Values),
        }).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
        // A name may be encoded through other words (ClassTexts); the table keeps it under the name.
        var nameSet = names.ToHashSet(StringComparer.Ordinal);
        var classTexts = o.ClassTexts is { } fileTexts ? ResolveClassTexts(fileTexts, manifest, zooDir) : null;
        var vectors = Encode(texts.Select(t => nameSet.Contains(t) && classTexts is not null && classTexts.TryGetValue(t, out var alias) ? alias : t).ToList());
        var textIndex = texts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        float[] TokenOf(string name, bool description) => vectors[textIndex[description ? descriptions![name] : name]];
        int textDim = _encoder.Dimension;
        bool padFromEncoder = true;
        float[] padVector;
        try { padVector = Encode([SequencePadding.PadToken])[0]; }
        catch (InvalidPromptException)
        {
            padFromEncoder = false; // e.g. GloVe has no word in "<->": a zero vector, i.e. the slot encoder's bias, marks padding.
            padVector = new float[textDim];
        }
        var textNames = texts.Append(SequencePadding.PadToken).ToArray();
        var table = new float[textNames.Length * textDim];
        for (int i = 0; i < texts.Count; i++) vectors[i].CopyTo(table, i * textDim);
        padVector.CopyTo(table, texts.Count * textDim);
        var config = o.ResolveConfig(textDim);

        // Frozen backbone of ResNet-20 p-Models, stored in every checkpoint so generation needs only the checkpoint.
        Dictionary<string, NamedTensor>? frozen = null;
        string? genericPath = string.IsNullOrEmpty(manifest.GenericModel) ? null : Path.GetFullPath(manifest.GenericModel);
        // The generic model the caller already loaded, when it is the zoo's.
        var given = loaded is { } l && genericPath is not null && GenericModel.StripExtension(Path.GetFullPath(l.Path)) == GenericModel.StripExtension(genericPath) ? l.Model : null;
        if (arch == PModelArch.ResNet20)
        {
            using var owned = given is null ? GenericModel.Load(genericPath ?? throw new TinaException($"The zoo {zooDir} names no generic model; a ResNet-20 generator needs its backbone.")) : null;
            var generic = given ?? owned!;
            frozen = StateDict.Export(generic.Network);
            frozen.Remove("fc.weight");
            frozen.Remove("fc.bias");
        }

        if (o.TaskMixup > 0 && !arch.IsHeadOnly())
            throw new TinaException($"Task mixup blends heads; {zooDir} holds {arch.ToName()} p-Models, whole networks that do not blend. Set TaskMixup to 0 (tina train --ablation no-mixup).");

        // Rows relative to text-to-rows: each seen class's start, subtracted from its rows before normalising.
        TextToRowsStart? start = null;
        if (o.Start != RowStart.None)
        {
            if (!arch.IsHeadOnly()) throw new TinaException($"Rows relative to text-to-rows need a head-only zoo; {zooDir} holds {arch.ToName()} p-Models.");
            var labelOf = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var e in entries)
                for (int c = 0; c < e.Task.Names.Length; c++) labelOf[e.Task.Names[c]] = e.Task.Classes[c];
            using var owned = given is null ? GenericModel.Load(genericPath ?? throw new TinaException($"The zoo {zooDir} names no generic model; rows relative to text-to-rows need its rows.")) : null;
            start = TextToRowsStart.Fit(given ?? owned!, texts, texts.Select(t => labelOf[t]).ToList(), texts.Select(t => TokenOf(t, false)).ToList());
        }

        // The zoo as padded, normalised vectors [N, P] and class tokens [N, K, D].
        int n = entries.Count, p = padding.Layout.Count, k = o.MaxClasses;
        var zooData = new float[(long)n * p];
        var tokenData = new float[(long)n * k * textDim];
        // Mixed prompts: a second token table with the descriptions; each step picks one of the two per slot.
        var descriptionData = o.Prompts == PromptKind.Mixed ? new float[(long)n * k * textDim] : null;
        for (int i = 0; i < n; i++)
        {
            var padded = padding.Pad(entries[i].Parameters, entryClasses[i]);
            if (start is not null)
                for (int s = 0; s < entryClasses[i]; s++)
                    TextToRowsStart.Add(padded, padding.Layout, s, start.For(entries[i].Task.Names[s], TokenOf(entries[i].Task.Names[s], false)), -1f);
            padded.CopyTo(zooData, (long)i * p);
            for (int s = 0; s < k; s++)
            {
                var name = s < entryClasses[i] ? entries[i].Task.Names[s] : null;
                (name is null ? padVector : TokenOf(name, o.Prompts == PromptKind.Descriptions)).CopyTo(tokenData, ((long)i * k + s) * textDim);
                if (descriptionData is not null) (name is null ? padVector : TokenOf(name, true)).CopyTo(descriptionData, ((long)i * k + s) * textDim);
            }
        }
        // Image prompts: the dataset class of every (p-Model, slot), -1 on padding.
        int[]? slotClasses = null;
        if (_imagePrompts is { } pool)
        {
            slotClasses = new int[n * k];
            for (int i = 0; i < n; i++)
                for (int s = 0; s < k; s++)
                {
                    if (s >= entryClasses[i]) { slotClasses[i * k + s] = -1; continue; }
                    var name = entries[i].Task.Names[s];
                    slotClasses[i * k + s] = pool.IndexOf(name) is >= 0 and var c ? c
                        : throw new TinaException($"The image prompts hold no images of the zoo's class '{name}'; project the images of the zoo's dataset {manifest.Dataset}.");
                }
        }
        using var baseMask = padding.MaskTensor(entryClasses);
        using var rawZoo = tensor(zooData, [n, p]);
        var normalizer = ParameterNormalizer.Fit(o.Normalization, padding.Layout, rawZoo, baseMask);
        return new PreparedZoo
        {
            ZooDir = zooDir, Dataset = manifest.Dataset, ZooClasses = zooClasses, GenericPath = genericPath, Arch = arch,
            // The pretrained backbone's identity (resnet18), read from the generic model's card once, not at every checkpoint.
            Backbone = arch == PModelArch.ResNet18 && genericPath is { } card ? (given?.Card ?? GenericModel.ReadCard(card)).Backbone : null,
            Device = device, Config = config, Padding = padding, EntryClasses = entryClasses,
            TextNames = textNames, TextTable = table, PadFromEncoder = padFromEncoder, Frozen = frozen, Start = start, Normalizer = normalizer,
            Parameters = normalizer.Normalize(rawZoo, baseMask).to(device),
            Tokens = tensor(tokenData, [n, k, textDim]).to(device),
            DescriptionTokens = descriptionData is null ? null : tensor(descriptionData, [n, k, textDim]).to(device),
            SlotClasses = slotClasses,
            PadRow = tensor(padVector).to(device),
        };
    }

    /// <summary>Continues from the checkpoint committed in <paramref name="dir"/>, which must have been made with the same settings.</summary>
    private void Resume(TrainingRun run, string dir, IProgress<TinaTrainingProgress>? progress)
    {
        var o = _options;
        var zoo = run.Zoo;
        var st = TinaCheckpoint.Load(dir);
        var mine = JsonSerializer.Serialize(o, TinaCheckpoint.Json);
        var theirs = JsonSerializer.Serialize(st.Options, TinaCheckpoint.Json);
        if (mine != theirs || st.ZooPath != zoo.ZooDir || st.TextEncoderId != _encoder.Id || st.TrainModels != zoo.Count || st.Config != zoo.Config)
            throw new TinaException($"The checkpoint in {dir} was made with other settings (zoo {st.ZooPath}, encoder {st.TextEncoderId}, {st.Options.ConfigName}, {st.Epochs} epochs, seed {st.Options.Seed}). Delete it or use the same settings.");
        var weights = TinaWeights.Load(dir, st);
        // The texts are not all in the options (--class-texts files are not): compare what they encoded to.
        if (!st.TextNames.SequenceEqual(zoo.TextNames, StringComparer.Ordinal) || !weights.TextEmbeddings.Data.AsSpan().SequenceEqual(zoo.TextTable))
            throw new TinaException($"The checkpoint in {dir} was trained on other class texts (another --class-texts file or other descriptions). Delete it or use the same texts.");
        StateDict.Import(run.Model, weights.Model, Path.Combine(dir, st.WeightsFile));
        using (no_grad())
            foreach (var (name, _, average) in run.Ema)
            {
                // TinaWeights.Load checked that the EMA has the model's tensors, StateDict.Import that they are the model's.
                var e = weights.Ema[name];
                using var src = tensor(e.Data, e.Shape);
                average.copy_(src);
            }
        TinaCheckpoint.LoadOptimizer(dir, st, run.Optimizer);
        run.StartEpoch = st.Epoch;
        run.EpochLoss.AddRange(st.EpochLoss);
        run.PriorSeconds = st.Seconds;
        progress?.Report(new TinaTrainingProgress(run.StartEpoch, o.Epochs, run.StepsPerEpoch, run.StepsPerEpoch, run.EpochLoss.LastOrDefault(), TimeSpan.Zero, $"resumed after epoch {run.StartEpoch}"));
    }

    /// <summary>Starts from the EMA weights of the generator in <paramref name="dir"/>, which must match this run's transformer.</summary>
    private void Initialize(TrainingRun run, string dir)
    {
        dir = Path.GetFullPath(dir);
        if (!TinaCheckpoint.Exists(dir)) throw new TinaFileNotFoundException(dir, "Give the folder of a trained generator (tina train) to start from.");
        var st = TinaCheckpoint.Load(dir);
        if (st.Config != run.Zoo.Config || st.Arch != run.Zoo.Arch.ToName() || st.TextEncoderId != _encoder.Id)
            throw new TinaException($"Cannot start from {dir}: it is a {st.Arch} generator with {st.Config} and encoder {st.TextEncoderId}; this run is {run.Zoo.Arch.ToName()} with {run.Zoo.Config} and {_encoder.Id}.");
        var weights = TinaWeights.Load(dir, st);
        StateDict.Import(run.Model, weights.Ema, Path.Combine(dir, st.WeightsFile));
        using var _ = no_grad();
        foreach (var (_, parameter, average) in run.Ema) average.copy_(parameter);
    }

    /// <summary>One epoch of optimizer steps (0-based <paramref name="epoch"/>); returns its mean loss per p-Model.</summary>
    private double TrainEpoch(TrainingRun run, int epoch, IProgress<TinaTrainingProgress>? progress, CancellationToken cancel)
    {
        var o = _options;
        var zoo = run.Zoo;
        int n = zoo.Count, steps = run.StepsPerEpoch;
        run.Model.train();
        // Data order, class counts, augmentation and noise depend only on (seed, epoch): a resumed run sees the same batches.
        var rng = new Random(Seeds.Derive(o.Seed, epoch, 0x7E1));
        using var gen = new Generator((ulong)Seeds.Derive(o.Seed, epoch, 0x7E2), CPU);
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        double lossSum = 0;
        long seen = 0;
        for (int s = 0; s < steps; s++)
        {
            cancel.ThrowIfCancellationRequested();
            long global = (long)epoch * steps + s;
            run.Optimizer.LearningRate = run.Schedule.At(global);
            int b = Math.Min(o.BatchSize, n - s * o.BatchSize);
            var idx = order.AsSpan(s * o.BatchSize, b).ToArray();
            var counts = new int[b];
            for (int i = 0; i < b; i++)
            {
                int own = zoo.EntryClasses[idx[i]];
                counts[i] = o.VaryClassCountProbability > 0 && rng.NextDouble() < o.VaryClassCountProbability ? rng.Next(1, own + 1) : own;
            }
            double lossValue = Step(run, idx, counts, rng, gen);
            UpdateEma(run, global);
            lossSum += lossValue * b;
            seen += b;
            run.StepsThisRun++;
            var eta = TimeSpan.FromSeconds(run.Clock.Elapsed.TotalSeconds / run.StepsThisRun * (run.TotalSteps - global - 1));
            progress?.Report(new TinaTrainingProgress(epoch + 1, o.Epochs, s + 1, steps, lossSum / seen, eta));
        }
        return lossSum / seen;
    }

    /// <summary>
    /// One optimizer step on the p-Models <paramref name="idx"/>, each trained on its first <paramref name="counts"/>
    /// classes (the rest padded); returns the step's loss.
    /// </summary>
    private double Step(TrainingRun run, int[] idx, int[] counts, Random rng, Generator gen)
    {
        var o = _options;
        var zoo = run.Zoo;
        var device = zoo.Device;
        int b = idx.Length, p = zoo.Padding.Layout.Count, k = o.MaxClasses, textDim = zoo.TextDim;
        using var scope = NewDisposeScope();
        // Slot j of the batch is class slot j % K of p-Model idx[j / K] (rows of the zoo's tokens flattened [N·K]).
        var si = new long[b * k];
        for (int j = 0; j < si.Length; j++) si[j] = (long)idx[j / k] * k + j % k;
        var x0 = zoo.Parameters.index_select(0, tensor(idx.Select(i => (long)i).ToArray()).to(device));
        var slots = tensor(si).to(device);
        var c = zoo.Tokens.view(-1, textDim).index_select(0, slots).view(b, k, textDim);
        if (zoo.DescriptionTokens is { } described)
        {
            // Mixed prompts: each slot is conditioned on its class's description with probability 1/2.
            var useDescription = rand([b, k, 1], generator: gen, device: device).Greater(0.5);
            c = where(useDescription, described.view(-1, textDim).index_select(0, slots).view(b, k, textDim), c);
        }
        if (zoo.SlotClasses is { } slotClasses)
        {
            // Few-shot image prompts: a share of the class slots shows K random training images of the class instead of its text.
            var images = new float[b * k * textDim];
            var useImage = new float[b * k];
            for (int j = 0; j < b * k; j++)
                if (slotClasses[si[j]] is >= 0 and var cls && rng.NextDouble() < o.ImagePromptShare)
                {
                    _imagePrompts!.Sample(cls, o.ImagePromptShots, rng, images.AsSpan(j * textDim, textDim));
                    useImage[j] = 1;
                }
            c = where(tensor(useImage, [b, k, 1]).to(device).Greater(0.5), tensor(images, [b, k, textDim]).to(device), c);
        }
        if (o.ClassifierAugmentation)
            (x0, c, _) = run.Augmentation.Apply(x0, c, idx.Select(i => zoo.EntryClasses[i]).ToArray(), gen);
        if (run.NeuronPermutation is { } permutation)
            x0 = permutation.Apply(x0, gen);
        if (run.Mixup is { } mixup)
            (x0, c, counts) = mixup.Apply(x0, c, counts, rng);
        var mask = zoo.Padding.MaskTensor(counts).to(device);
        x0 = x0 * mask;
        var slot = tensor(counts.SelectMany(cc => Enumerable.Range(0, k).Select(j => j < cc ? 1f : 0f)).ToArray(), [b, k, 1]).to(device);
        c = (c * slot).Plus(zoo.PadRow.view(1, 1, textDim) * slot.SubtractFrom(1));
        var loss = run.DiffusionProcess.TrainingLoss(run.Model, x0, c, mask * run.ParameterWeights, gen);
        run.Optimizer.ZeroGrad();
        loss.backward();
        if (o.GradientClip > 0) nn.utils.clip_grad_norm_(run.Model.parameters(), o.GradientClip);
        run.Optimizer.Step();
        return loss.item<float>();
    }

    /// <summary>Commits the checkpoint after <paramref name="epochs"/> finished epochs.</summary>
    private void Save(TrainingRun run, string dir, int epochs)
    {
        var zoo = run.Zoo;
        var ema = new Dictionary<string, NamedTensor>();
        foreach (var (name, _, average) in run.Ema)
        {
            using var c = average.detach().cpu().contiguous();
            ema[name] = new NamedTensor(c.shape.ToArray(), c.data<float>().ToArray());
        }
        var weights = new TinaWeights(StateDict.Export(run.Model), ema, new NamedTensor([zoo.TextNames.Length, zoo.TextDim], zoo.TextTable), zoo.Frozen,
            zoo.Start?.Map, zoo.Start?.Table);
        TinaCheckpoint.Commit(dir, new TinaCheckpointState
        {
            Epoch = epochs, Epochs = _options.Epochs, StepsPerEpoch = run.StepsPerEpoch, Arch = zoo.Arch.ToName(), Config = zoo.Config,
            Recipe = _options.Recipe, Options = _options, TextEncoderId = _encoder.Id, TextNames = zoo.TextNames, PadFromEncoder = zoo.PadFromEncoder,
            ZooPath = zoo.ZooDir, Dataset = zoo.Dataset, ZooClassesPerTask = zoo.ZooClasses, TrainModels = zoo.Count,
            GenericModelPath = zoo.GenericPath,
            Backbone = zoo.Backbone,
            Normalizer = zoo.Normalizer.ToJson(), EpochLoss = [.. run.EpochLoss],
            Seconds = Math.Round(run.Seconds, 2),
            WeightsFile = TinaCheckpoint.WeightsFileName(epochs), OptimizerFile = TinaCheckpoint.OptimizerFileName(epochs),
        }, weights, run.Optimizer);
    }

    /// <summary>The description of every class of <paramref name="names"/> (from <paramref name="all"/>), by name.</summary>
    private static Dictionary<string, string> Describe(IReadOnlyDictionary<string, string> all, string dataset, IReadOnlyList<string> names)
    {
        var missing = names.Where(n => !all.ContainsKey(n)).ToList();
        if (missing.Count > 0) throw new TinaException($"No built-in description for the class(es) {string.Join(", ", missing.Take(5).Select(m => $"'{m}'"))} of {dataset}; train on names (--prompt-kind names).");
        return names.ToDictionary(n => n, n => all[n], StringComparer.Ordinal);
    }

    private float[][] Encode(IReadOnlyList<string> texts) => _cache is null ? _encoder.Encode(texts) : _cache.GetOrEncode(_encoder, texts);

    private void UpdateEma(TrainingRun run, long update)
    {
        var o = _options;
        double d = o.EmaWarmup ? Math.Min(o.EmaDecay, (1.0 + update) / (10.0 + update)) : o.EmaDecay;
        using var _ = no_grad();
        foreach (var (_, parameter, average) in run.Ema)
            average.TimesInPlace(d).PlusInPlace(parameter.detach(), 1 - d);
    }

    /// <summary>The zoo's training p-Models as tensors on the training device, with what a checkpoint records about them.</summary>
    private sealed class PreparedZoo : IDisposable
    {
        public required string ZooDir { get; init; }
        public required string Dataset { get; init; }
        public required int ZooClasses { get; init; }
        public required string? GenericPath { get; init; }
        /// <summary>The <c>sha256:…</c> identity of the pretrained backbone (resnet18); null otherwise.</summary>
        public required string? Backbone { get; init; }
        public required PModelArch Arch { get; init; }
        public required Device Device { get; init; }
        public required TinaConfig Config { get; init; }
        public required SequencePadding Padding { get; init; }
        /// <summary>Classes of each training p-Model.</summary>
        public required int[] EntryClasses { get; init; }
        /// <summary>The texts of the text table: the zoo's class names, then '&lt;-&gt;'.</summary>
        public required string[] TextNames { get; init; }
        /// <summary>[TextNames, TextDim] row-major.</summary>
        public required float[] TextTable { get; init; }
        public required bool PadFromEncoder { get; init; }
        public required Dictionary<string, NamedTensor>? Frozen { get; init; }
        /// <summary>With <see cref="TinaTrainingOptions.Start"/>: the rows' starts (stored with every checkpoint).</summary>
        public required TextToRowsStart? Start { get; init; }
        public required ParameterNormalizer Normalizer { get; init; }
        /// <summary>Padded, normalised parameter vectors [N, P].</summary>
        public required Tensor Parameters { get; init; }
        /// <summary>Class tokens [N, K, D].</summary>
        public required Tensor Tokens { get; init; }
        /// <summary>Mixed prompts only: the description tokens [N, K, D] beside the name tokens.</summary>
        public Tensor? DescriptionTokens { get; init; }
        /// <summary>Image prompts only: the dataset class of every (p-Model, slot) of <see cref="Tokens"/>, -1 on padding.</summary>
        public int[]? SlotClasses { get; init; }
        /// <summary>The '&lt;-&gt;' embedding [D].</summary>
        public required Tensor PadRow { get; init; }

        public int Count => EntryClasses.Length;
        public int TextDim => Config.TextDim;

        public void Dispose()
        {
            Parameters.Dispose();
            Tokens.Dispose();
            DescriptionTokens?.Dispose();
            PadRow.Dispose();
        }
    }

    /// <summary>The state of one training run: the transformer, its optimizer and EMA copy, the schedule, the losses so far.</summary>
    private sealed class TrainingRun : IDisposable
    {
        public TrainingRun(TinaTrainingOptions o, PreparedZoo zoo)
        {
            Zoo = zoo;
            var layout = zoo.Padding.Layout;
            // Under the seed lock: the layer constructors draw from torch's process-wide generator (the transformer then
            // redraws its weights from its own seeded generator), and must not interleave with another thread's seeded
            // network construction (Networks.Create).
            Model = Seeds.WithGlobalSeed(o.Seed, () => new TinaTransformer(zoo.Config, new ParameterTokenizer(layout, zoo.Config.ChunkSize, zoo.Config.ClassifierRowTokens), o.Seed));
            Model.to(zoo.Device);
            var (decay, noDecay) = Model.ParameterGroups();
            Optimizer = new AdamW([new ParameterGroup(decay.ToArray(), TinaTrainingOptions.WeightDecay), new ParameterGroup(noDecay.ToArray(), 0.0)], o.LearningRate, beta1: 0.9, beta2: 0.999);
            Ema = Model.named_parameters().Select(x => (x.name, (Tensor)x.parameter, x.parameter.detach().clone())).ToList();
            StepsPerEpoch = (zoo.Count + o.BatchSize - 1) / o.BatchSize;
            TotalSteps = (long)StepsPerEpoch * o.Epochs;
            Schedule = new WarmupCosineSchedule(o.LearningRate, TotalSteps, WarmupSteps: Math.Min((long)o.WarmupEpochs * StepsPerEpoch, TotalSteps / 2));
            Augmentation = new ClassifierAugmentation(layout);
            NeuronPermutation = o.NeuronPermutation ? new NeuronPermutationAugmentation(layout) : null;
            Mixup = o.TaskMixup > 0 ? new TaskMixup(o.TaskMixup) : null;
            ParameterWeights = tensor(LossWeights.For(layout, o.LossWeighting)).to(zoo.Device);
        }

        public PreparedZoo Zoo { get; }
        public TinaTransformer Model { get; }
        public AdamW Optimizer { get; }
        /// <summary>Every parameter of <see cref="Model"/> (by name, in parameter order) with its exponential moving average.</summary>
        public List<(string Name, Tensor Parameter, Tensor Average)> Ema { get; }
        public int StepsPerEpoch { get; }
        public long TotalSteps { get; }
        public WarmupCosineSchedule Schedule { get; }
        public GaussianDiffusion DiffusionProcess { get; } = new();
        public ClassifierAugmentation Augmentation { get; }
        /// <summary>The neuron-permutation ablation, when <see cref="TinaTrainingOptions.NeuronPermutation"/> is on.</summary>
        public NeuronPermutationAugmentation? NeuronPermutation { get; }
        /// <summary>Task mixup, when <see cref="TinaTrainingOptions.TaskMixup"/> is above 0.</summary>
        public TaskMixup? Mixup { get; }
        /// <summary>Loss weight of every parameter [P] (<see cref="TinaTrainingOptions.LossWeighting"/>).</summary>
        public Tensor ParameterWeights { get; }
        /// <summary>Epochs finished before this run (0 for a fresh run).</summary>
        public int StartEpoch { get; set; }
        /// <summary>Mean loss of every finished epoch.</summary>
        public List<double> EpochLoss { get; } = [];
        /// <summary>Training seconds of earlier runs.</summary>
        public double PriorSeconds { get; set; }
        /// <summary>Training time of this run.</summary>
        public Stopwatch Clock { get; } = new();
        public long StepsThisRun { get; set; }
        public double Seconds => PriorSeconds + Clock.Elapsed.TotalSeconds;

        public void Dispose()
        {
            foreach (var (_, _, average) in Ema) average.Dispose();
            ParameterWeights.Dispose();
            Optimizer.Dispose();
            Model.Dispose();
        }
    }
}
