using System.Diagnostics;
using System.Text.Json;
using Tina.Diffusion;
using Tina.Generic;
using Tina.IO;
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
/// <param name="CheckpointDir">The checkpoint folder (load it with <see cref="TinaGenerator.Load"/>).</param>
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

    /// <summary>Creates the trainer; <paramref name="encoder"/> is used (not owned) for the class-name embeddings.</summary>
    public TinaTrainer(TinaTrainingOptions options, ITextEncoder encoder, EmbeddingCache? cache = null)
    {
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _cache = cache;
    }

    /// <summary>Trains (or resumes training) on the zoo in <paramref name="zooDir"/>, writing checkpoints to <paramref name="checkpointDir"/>.</summary>
    /// <exception cref="TinaException">The zoo has no training p-Models, or the folder holds a checkpoint made with other settings.</exception>
    public TinaTrainingResult Train(string zooDir, string checkpointDir, IProgress<TinaTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var o = _options;
        var device = o.Device ?? CPU;
        zooDir = Path.GetFullPath(zooDir);
        checkpointDir = Path.GetFullPath(checkpointDir);
        var entries = ZooReader.ReadAll(zooDir, out var manifest).Where(e => e.Task.Split == "train").ToList();
        if (entries.Count == 0) throw new TinaException($"The zoo {zooDir} has no finished training p-Models yet; build it first (tina zoo build).");
        var arch = PModelArchNames.Parse(manifest.Arch);
        int zooClasses = manifest.ClassesPerTask;          // the largest task of the zoo
        var entryClasses = entries.Select(e => e.Task.Names.Length).ToArray();
        if (zooClasses > o.MaxClasses) throw new TinaException($"The zoo's tasks have {zooClasses} classes, more than the {o.MaxClasses} class slots; raise MaxClasses.");
        var padding = new SequencePadding(arch, o.MaxClasses);

        // Text embeddings: every class name once, then '<->'.
        var names = entries.SelectMany(e => e.Task.Names).Distinct(StringComparer.Ordinal).OrderBy(n => n, StringComparer.Ordinal).ToList();
        var vectors = Encode(names);
        int textDim = _encoder.Dimension;
        bool padFromEncoder = true;
        float[] padVector;
        try { padVector = Encode([SequencePadding.PadToken])[0]; }
        catch (InvalidPromptException)
        {
            padFromEncoder = false; // e.g. GloVe has no word in "<->": a zero vector, i.e. the slot encoder's bias, marks padding.
            padVector = new float[textDim];
        }
        var textNames = names.Append(SequencePadding.PadToken).ToArray();
        var table = new float[textNames.Length * textDim];
        for (int i = 0; i < names.Count; i++) vectors[i].CopyTo(table, i * textDim);
        padVector.CopyTo(table, names.Count * textDim);

        var config = o.ResolveConfig(textDim);
        var tokenizer = new ParameterTokenizer(padding.Layout, config.ChunkSize, config.ClassifierRowTokens);
        Directory.CreateDirectory(checkpointDir);

        // Frozen backbone of ResNet-20 p-Models, stored in every checkpoint so generation needs only the checkpoint.
        Dictionary<string, NamedTensor>? frozen = null;
        string? genericPath = string.IsNullOrEmpty(manifest.GenericModel) ? null : Path.GetFullPath(manifest.GenericModel);
        if (arch == PModelArch.ResNet20)
        {
            using var generic = GenericModel.Load(genericPath ?? throw new TinaException($"The zoo {zooDir} names no generic model; a ResNet-20 generator needs its backbone."));
            frozen = StateDict.Export(generic.Network);
            frozen.Remove("fc.weight");
            frozen.Remove("fc.bias");
        }

        // The zoo as padded, normalised vectors [N, P] and class tokens [N, K, D].
        int n = entries.Count, p = padding.Layout.Count, k = o.MaxClasses;
        var zooData = new float[(long)n * p];
        var tokenData = new float[(long)n * k * textDim];
        var nameIndex = names.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            padding.Pad(entries[i].Parameters, entryClasses[i]).CopyTo(zooData, (long)i * p);
            for (int s = 0; s < k; s++)
            {
                var src = s < entryClasses[i] ? vectors[nameIndex[entries[i].Task.Names[s]]] : padVector;
                src.CopyTo(tokenData, ((long)i * k + s) * textDim);
            }
        }
        using var baseMask = padding.MaskTensor(entryClasses);
        using var rawZoo = tensor(zooData, [n, p]);
        var normalizer = ParameterNormalizer.Fit(o.Normalization, padding.Layout, rawZoo, baseMask);
        using var zoo = normalizer.Normalize(rawZoo, baseMask).to(device);
        using var tokens = tensor(tokenData, [n, k, textDim]).to(device);
        using var padRow = tensor(padVector).to(device);

        var model = new TinaTransformer(config, tokenizer, o.Seed);
        model.to(device);
        var (decay, noDecay) = model.ParameterGroups();
        using var opt = new AdamW([new ParameterGroup(decay.ToArray(), o.WeightDecay), new ParameterGroup(noDecay.ToArray(), 0.0)], o.LearningRate, beta1: 0.9, beta2: 0.999);
        var named = model.named_parameters().ToList();
        var ema = named.Select(x => x.parameter.detach().clone()).ToList();

        int steps = (n + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)steps * o.Epochs;
        long warmup = Math.Min((long)o.WarmupEpochs * steps, totalSteps / 2);
        var losses = new List<double>();
        int startEpoch = 0;
        double seconds = 0;
        if (TinaCheckpoint.Exists(checkpointDir))
        {
            var st = TinaCheckpoint.Load(checkpointDir);
            var mine = JsonSerializer.Serialize(o, TinaCheckpoint.Json);
            var theirs = JsonSerializer.Serialize(st.Options, TinaCheckpoint.Json);
            if (mine != theirs || st.ZooPath != zooDir || st.TextEncoderId != _encoder.Id || st.TrainModels != n || st.Config != config)
                throw new TinaException($"The checkpoint in {checkpointDir} was made with other settings (zoo {st.ZooPath}, encoder {st.TextEncoderId}, {st.Options.ConfigName}, {st.Epochs} epochs, seed {st.Options.Seed}). Delete it or use the same settings.");
            var weights = TinaWeights.Load(checkpointDir, st);
            StateDict.Import(model, weights.Model, Path.Combine(checkpointDir, st.WeightsFile));
            using (no_grad())
                for (int i = 0; i < named.Count; i++)
                {
                    // TinaWeights.Load checked that the EMA has the model's tensors, StateDict.Import that they are the model's.
                    var e = weights.Ema[named[i].name];
                    using var src = tensor(e.Data, e.Shape);
                    ema[i].copy_(src);
                }
            TinaCheckpoint.LoadOptimizer(checkpointDir, st, opt);
            startEpoch = st.Epoch;
            losses.AddRange(st.EpochLoss);
            seconds = st.Seconds;
            progress?.Report(new TinaTrainingProgress(startEpoch, o.Epochs, steps, steps, losses.LastOrDefault(), TimeSpan.Zero, $"resumed after epoch {startEpoch}"));
        }

        var diffusion = new GaussianDiffusion();
        var augmentation = new ClassifierAugmentation(padding.Layout);
        var mixing = new TaskMixing(padding.Layout, entries.Select(e => e.Task.Names.Select(x => nameIndex[x]).ToArray()).ToList());
        using var lossWeights = tensor(LossWeights.For(padding.Layout, o.LossWeighting)).to(device);
        var sw = Stopwatch.StartNew();
        long doneThisRun = 0;
        for (int epoch = startEpoch; epoch < o.Epochs; epoch++)
        {
            model.train();
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
                double lr = global < warmup ? o.LearningRate * (global + 1) / warmup
                    : 0.5 * o.LearningRate * (1 + Math.Cos(Math.PI * (global - warmup) / Math.Max(1, totalSteps - warmup)));
                opt.LearningRate = lr;
                int b = Math.Min(o.BatchSize, n - s * o.BatchSize);
                var idx = order.AsSpan(s * o.BatchSize, b).ToArray();
                var counts = new int[b];
                for (int i = 0; i < b; i++)
                {
                    int own = entryClasses[idx[i]];
                    counts[i] = o.VaryClassCountProbability > 0 && rng.NextDouble() < o.VaryClassCountProbability ? rng.Next(1, own + 1) : own;
                }
                // No random draws without task mixing, so runs without it see the same batches as before it existed.
                var mixed = idx.Select(_ => o.TaskMixingProbability > 0 && rng.NextDouble() < o.TaskMixingProbability).ToArray();
                double lossValue;
                using (var scope = NewDisposeScope())
                {
                    var (pi, si) = mixing.Indices(idx, mixed, rng);
                    var x0 = zoo.view(-1).index_select(0, tensor(pi).to(device)).view(b, p);
                    var c = tokens.view(-1, textDim).index_select(0, tensor(si).to(device)).view(b, k, textDim);
                    if (o.ClassifierAugmentation)
                        (x0, c, _) = augmentation.Apply(x0, c, idx.Select(i => entryClasses[i]).ToArray(), gen);
                    var mask = padding.MaskTensor(counts).to(device);
                    x0 = x0 * mask;
                    var slot = tensor(counts.SelectMany(cc => Enumerable.Range(0, k).Select(j => j < cc ? 1f : 0f)).ToArray(), [b, k, 1]).to(device);
                    c = (c * slot).Plus(padRow.view(1, 1, textDim) * slot.SubtractFrom(1));
                    var loss = diffusion.TrainingLoss(model, x0, c, mask * lossWeights, gen);
                    opt.ZeroGrad();
                    loss.backward();
                    if (o.GradientClip > 0) nn.utils.clip_grad_norm_(model.parameters(), o.GradientClip);
                    opt.Step();
                    lossValue = loss.item<float>();
                }
                UpdateEma(named, ema, o, global);
                lossSum += lossValue * b;
                seen += b;
                doneThisRun++;
                var eta = TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds / doneThisRun * (totalSteps - global - 1));
                progress?.Report(new TinaTrainingProgress(epoch + 1, o.Epochs, s + 1, steps, lossSum / seen, eta));
            }
            losses.Add(lossSum / seen);
            if ((epoch + 1) % o.CheckpointEvery != 0 && epoch + 1 != o.Epochs) continue;
            SaveCheckpoint(checkpointDir, model, named, ema, opt, frozen, table, textNames.Length, textDim, new TinaCheckpointState
            {
                Epoch = epoch + 1, Epochs = o.Epochs, StepsPerEpoch = steps, Arch = arch.ToName(), Config = config, Options = o,
                TextEncoderId = _encoder.Id, TextNames = textNames, PadFromEncoder = padFromEncoder, ZooPath = zooDir,
                Dataset = manifest.Dataset, ZooClassesPerTask = zooClasses, TrainModels = n, GenericModelPath = genericPath,
                Normalizer = normalizer.ToJson(), EpochLoss = [.. losses], Seconds = Math.Round(seconds + sw.Elapsed.TotalSeconds, 2),
                WeightsFile = TinaCheckpoint.WeightsFileName(epoch + 1), OptimizerFile = TinaCheckpoint.OptimizerFileName(epoch + 1),
            });
        }
        foreach (var e in ema) e.Dispose();
        model.Dispose();
        return new TinaTrainingResult(checkpointDir, losses, seconds + sw.Elapsed.TotalSeconds, startEpoch);
    }

    private float[][] Encode(IReadOnlyList<string> texts) => _cache is null ? _encoder.Encode(texts) : _cache.GetOrEncode(_encoder, texts);

    private static void UpdateEma(List<(string name, Parameter parameter)> named, List<Tensor> ema, TinaTrainingOptions o, long update)
    {
        double d = o.EmaWarmup ? Math.Min(o.EmaDecay, (1.0 + update) / (10.0 + update)) : o.EmaDecay;
        using var _ = no_grad();
        for (int i = 0; i < named.Count; i++)
            ema[i].TimesInPlace(d).PlusInPlace(named[i].parameter.detach(), 1 - d);
    }

    private static void SaveCheckpoint(string dir, TinaTransformer model, List<(string name, Parameter parameter)> named, List<Tensor> ema,
        Optimizer opt, Dictionary<string, NamedTensor>? frozen, float[] table, int rows, int textDim, TinaCheckpointState state)
    {
        var emaTensors = new Dictionary<string, NamedTensor>();
        for (int i = 0; i < named.Count; i++)
        {
            using var c = ema[i].detach().cpu().contiguous();
            emaTensors[named[i].name] = new NamedTensor(c.shape.ToArray(), c.data<float>().ToArray());
        }
        TinaCheckpoint.Commit(dir, state, new TinaWeights(StateDict.Export(model), emaTensors, new NamedTensor([rows, textDim], table), frozen), opt);
    }
}
