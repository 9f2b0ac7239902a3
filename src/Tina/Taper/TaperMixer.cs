using Tina.Data;
using Tina.Evaluation;
using Tina.Generic;
using Tina.PModels;
using Tina.Runtime;
using Tina.Runtime.Optim;
using Tina.Tasks;
using Tina.Text;
using Tina.Zoo;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tina.Taper;

/// <summary>
/// The TAPER-Mixer baseline (the paper's appendix A.4; TAPER: Chen et al., 2023). Experts start from the generic model
/// and are fine-tuned, each on its own shard of the classes that occur in the training tasks. A small MLP (the mixer)
/// maps a task's text embedding (the mean of its class-name embeddings) to softmax mixing weights, one set per
/// parameter tensor; the task's model is the weighted sum of the experts, and its p-Model keeps the classifier rows of
/// the task's classes in prompt order (classifier selection on the mixed model). The mixer is trained on the training
/// tasks' own images with the experts frozen, so it also serves unseen tasks — but only by mixing what the experts
/// learnt. For ResNet-20 the experts are heads on the frozen generic backbone, like the zoo's p-Models.
/// </summary>
public sealed class TaperMixer : IPersonalizationMethod, IDisposable
{
    /// <summary>Method name in reports.</summary>
    public const string MethodName = "taper-mixer";

    private readonly GenericModel _generic;
    private readonly ParameterLayout _layout;   // the experts' full layout (every class of the dataset)
    private readonly Tensor[] _experts;         // per layout entry: [E, …], frozen
    private readonly Sequential _mixer;
    private readonly ITextEncoder _text;
    private readonly Dictionary<string, float[]> _embeddings = new(StringComparer.Ordinal);
    private readonly Func<string, string> _textOf;
    private ImageSet? _featuresOf;
    private Tensor? _features;                  // heads: generic features of the last test set predicted on

    private TaperMixer(GenericModel generic, Tensor[] experts, Sequential mixer, ITextEncoder text, IReadOnlyList<int[]> shards, Func<string, string>? textOf)
    {
        _textOf = textOf ?? (name => name);
        _generic = generic;
        _layout = ParameterLayout.For(generic.Arch, generic.Card.Classes.Count);
        _experts = experts;
        _mixer = mixer;
        _text = text;
        Shards = shards;
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <summary>The classes (dataset labels) each expert was fine-tuned on.</summary>
    public IReadOnlyList<int[]> Shards { get; }

    /// <summary>
    /// Fine-tunes the experts and trains the mixer on <paramref name="trainTasks"/> (their class names, or the texts
    /// <paramref name="textOf"/> gives for them, e.g. descriptions, are embedded by <paramref name="text"/>, which the
    /// returned method keeps using and the caller keeps owning). <paramref name="progress"/> receives the fraction of
    /// all steps done.
    /// </summary>
    /// <exception cref="TinaException">Bad options, no tasks, or fewer classes in the tasks than experts.</exception>
    public static TaperMixer Train(GenericModel generic, ImageDataset data, IReadOnlyList<PersonalizationTask> trainTasks, ITextEncoder text,
        TaperMixerOptions? options = null, IProgress<double>? progress = null, CancellationToken cancel = default, Func<string, string>? textOf = null)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(trainTasks);
        ArgumentNullException.ThrowIfNull(text);
        var o = options ?? new TaperMixerOptions();
        o.Validate();
        if (trainTasks.Count == 0) throw new TinaException("TAPER-Mixer needs training tasks.");
        TorchRuntime.UseOnThisThread();
        var rng = new Random(Seeds.Derive(o.Seed, 0x7A9E));
        // Class shards: the classes of the training tasks, shuffled and dealt round-robin to the experts.
        var classes = trainTasks.SelectMany(t => t.Classes).Distinct().Order().ToArray();
        if (classes.Length < o.Experts) throw new TinaException($"The training tasks hold {classes.Length} classes, fewer than the {o.Experts} experts.");
        rng.Shuffle(classes);
        var shards = Enumerable.Range(0, o.Experts).Select(e => classes.Where((_, i) => i % o.Experts == e).Order().ToArray()).ToList();

        Tensor? trainFeatures = null, testFeatures = null;
        if (generic.Arch.IsHeadOnly()) (trainFeatures, testFeatures) = FineTuner.HeadFeatures(generic, data, 0);
        try
        {
            int expertSteps = shards.Min(s => data.Train.IndicesOf(s.ToHashSet()).Length / o.BatchSize) * o.ExpertEpochs;
            int mixerSteps = (trainTasks.Count + o.TasksPerStep - 1) / o.TasksPerStep * o.MixerEpochs;
            double total = expertSteps + mixerSteps;
            var experts = TrainExperts(generic, data, shards, trainFeatures, o, rng, cancel, progress is null ? null : new Scaled(progress, 0, expertSteps / total));
            var mixer = Seeds.WithGlobalSeed(Seeds.Derive(o.Seed, 0x313), () => CreateMixer(text.Dimension, o.Hidden, experts.Length * o.Experts));
            var method = new TaperMixer(generic, experts, mixer, text, shards, textOf);
            method.TrainMixer(data, trainTasks, trainFeatures, o, rng, cancel, progress is null ? null : new Scaled(progress, expertSteps / total, mixerSteps / total));
            // The test features are the first a prediction needs; the method keeps them.
            (method._featuresOf, method._features, testFeatures) = (data.Test, testFeatures, null);
            return method;
        }
        finally
        {
            trainFeatures?.Dispose();
            testFeatures?.Dispose();
        }
    }

    /// <summary>The mixing weights of <paramref name="task"/>: [tensor][expert], each row summing to 1.</summary>
    public float[][] MixingWeights(PersonalizationTask task)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var w = Weights(Embed([task])).squeeze(0);
        return Enumerable.Range(0, _experts.Length).Select(l => w[l].data<float>().ToArray()).ToArray();
    }

    /// <summary>The p-Model of <paramref name="task"/>: the mixed model's parameters with the task's classifier rows in prompt order.</summary>
    public PModel Create(PersonalizationTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var p = PModelTensors(Embed([task]), [task], out var _);
        var flat = cat(p.Select(t => t.reshape(-1)).ToList(), 0);
        var frozen = _generic.Arch.IsHeadOnly() ? ClassifierSelection.Create(_generic, task).Frozen : null;
        return new PModel(_generic.Arch, task.Names, flat.data<float>().ToArray(), frozen);
    }

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var p = PModelTensors(Embed([task]), [task], out var _);
        Tensor logits;
        if (_generic.Arch.IsHeadOnly())
        {
            if (!ReferenceEquals(_featuresOf, test))
            {
                _features?.Dispose();
                _features = Accuracy.Features(_generic.Network, test).DetachFromDisposeScope();
                _featuresOf = test;
            }
            var f = _features!.index_select(0, tensor(indices.Select(i => (long)i).ToArray())).unsqueeze(0);
            logits = BatchedHeads.Forward(f, p);
        }
        else
        {
            var x = Augmentation.ToTensor(test, indices, Normalization.Mean, Normalization.Std, null).unsqueeze(0);
            logits = BatchedCnn5k.Forward(x, p);
        }
        return logits.squeeze(0).argmax(1L).data<long>().Select(v => (int)v).ToArray();
    }

    private static Tensor[] TrainExperts(GenericModel generic, ImageDataset data, IReadOnlyList<int[]> shards, Tensor? trainFeatures, TaperMixerOptions o,
        Random rng, CancellationToken cancel, IProgress<double>? progress)
    {
        int n = generic.Card.Classes.Count, e = shards.Count, b = o.BatchSize;
        var all = new PersonalizationTask(Enumerable.Range(0, n).ToArray(), generic.Card.Classes.ToArray());
        var start = ClassifierSelection.Create(generic, all).Parameters;
        using BatchedPModels models = generic.Arch == PModelArch.Cnn5k
            ? new BatchedCnn5k(Enumerable.Repeat(start, e).ToList(), n) : new BatchedHeads(generic.Arch, Enumerable.Repeat(start, e).ToList(), n);
        var sgd = new MaskedSgd(models.Parameters, 0.9, 5e-4);
        var idx = shards.Select(s => data.Train.IndicesOf(s.ToHashSet())).ToArray();
        int steps = idx.Min(ix => ix.Length / b);
        if (steps == 0) throw new TinaException($"A TAPER-Mixer shard has fewer training images than the batch size {b}.");
        double peak = o.ExpertLearningRate ?? (generic.Arch == PModelArch.Cnn5k ? 0.01 : 0.05);
        var active = Enumerable.Repeat(1f, e).ToArray();
        for (int epoch = 0; epoch < o.ExpertEpochs; epoch++)
        {
            foreach (var ix in idx) rng.Shuffle(ix);
            for (int s = 0; s < steps; s++)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = idx.Select(ix => ix[(s * b)..((s + 1) * b)]).ToArray();
                var input = Input(data.Train, batch, trainFeatures, rng);
                var labels = tensor(batch.SelectMany(ix => ix.Select(i => (long)data.Train.Labels[i])).ToArray());
                var logits = models.Forward(input);                                   // [E, B, N]
                var loss = F.cross_entropy(logits.reshape(e * b, n), labels, reduction: nn.Reduction.None).view(e, b).mean([1L]).sum();
                loss.backward();
                float lr = (float)new WarmupCosineSchedule(peak, (long)o.ExpertEpochs * steps).At((long)epoch * steps + s);
                sgd.Step(Enumerable.Repeat(lr, e).ToArray(), active);
                progress?.Report((epoch * steps + s + 1.0) / (o.ExpertEpochs * steps));
            }
        }
        return models.Parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    private void TrainMixer(ImageDataset data, IReadOnlyList<PersonalizationTask> tasks, Tensor? trainFeatures, TaperMixerOptions o,
        Random rng, CancellationToken cancel, IProgress<double>? progress)
    {
        var parameters = _mixer.parameters().ToList();
        using var adam = new Tina.Runtime.Optim.AdamW(parameters, o.MixerLearningRate, 0);
        var trainIdx = tasks.Select(t => data.Train.IndicesOf(t.Classes.ToHashSet())).ToArray();
        int stepsPerEpoch = (tasks.Count + o.TasksPerStep - 1) / o.TasksPerStep, b = o.BatchSize;
        for (int epoch = 0; epoch < o.MixerEpochs; epoch++)
        {
            var order = Enumerable.Range(0, tasks.Count).ToArray();
            rng.Shuffle(order);
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                cancel.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var chunk = order.Skip(s * o.TasksPerStep).Take(o.TasksPerStep).ToArray();
                var group = chunk.Select(i => tasks[i]).ToArray();
                var p = PModelTensors(Embed(group), group, out var mask);
                // One batch of each task's own training images, labelled by prompt position.
                var batch = chunk.Select(i => trainIdx[i].OrderBy(_ => rng.Next()).Take(b).ToArray()).ToArray();
                int m = chunk.Length, perTask = batch.Min(x => x.Length);
                batch = batch.Select(x => x[..perTask]).ToArray();
                var labels = tensor(batch.SelectMany((x, k) => x.Select(i => (long)group[k].PositionOf(data.Train.Labels[i]))).ToArray());
                var input = Input(data.Train, batch, trainFeatures, rng);
                var logits = (_generic.Arch == PModelArch.Cnn5k ? BatchedCnn5k.Forward(input, p) : BatchedHeads.Forward(input, p)).Plus(mask);
                var loss = F.cross_entropy(logits.reshape(m * perTask, -1), labels);
                loss.backward();
                adam.Step();
                adam.ZeroGrad();
                progress?.Report((epoch * stepsPerEpoch + s + 1.0) / (o.MixerEpochs * stepsPerEpoch));
            }
        }
        foreach (var q in parameters) q.requires_grad_(false);
    }

    /// <summary>
    /// The p-Models of <paramref name="tasks"/> as stacked tensors [M, …] in the layout of the largest task (missing
    /// classes point at class 0 and are masked by <paramref name="mask"/> [M, 1, C], −1e9).
    /// </summary>
    private Tensor[] PModelTensors(Tensor embeddings, IReadOnlyList<PersonalizationTask> tasks, out Tensor mask)
    {
        int m = tasks.Count, c = tasks.Max(t => t.Count);
        var w = Weights(embeddings);                                            // [M, L, E]
        var rows = new long[m * c];
        var maskData = new float[m * c];
        for (int k = 0; k < m; k++)
            for (int j = 0; j < c; j++)
            {
                rows[k * c + j] = j < tasks[k].Count ? tasks[k].Classes[j] : 0;
                if (j >= tasks[k].Count) maskData[k * c + j] = -1e9f;
            }
        var rowIndex = tensor(rows, [m, c]);
        mask = tensor(maskData, [m, 1, c]);
        var result = new Tensor[_experts.Length];
        for (int l = 0; l < _experts.Length; l++)
        {
            var expert = _experts[l];                                           // [E, …]
            var mixed = w.select(1, l).matmul(expert.reshape(expert.shape[0], -1)).reshape([(long)m, .. expert.shape[1..]]);
            var name = _layout.Entries[l].Name;
            result[l] = name switch
            {
                "fc.weight" => mixed.gather(1, rowIndex.unsqueeze(2).expand(new long[] { m, c, mixed.shape[2] })),
                "fc.bias" => mixed.gather(1, rowIndex),
                _ => mixed,
            };
        }
        return result;
    }

    /// <summary>Mixing weights [M, L, E] (softmax over the experts) for task embeddings [M, D].</summary>
    private Tensor Weights(Tensor embeddings) =>
        F.softmax(_mixer.forward(embeddings).view(embeddings.shape[0], _experts.Length, -1), 2);

    /// <summary>Task embeddings [M, D]: the unit-length mean of each task's class-name embeddings.</summary>
    private Tensor Embed(IReadOnlyList<PersonalizationTask> tasks)
    {
        var missing = tasks.SelectMany(t => t.Names).Where(n => !_embeddings.ContainsKey(n)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var vectors = _text.Encode(missing.Select(_textOf).ToList());
            for (int i = 0; i < missing.Count; i++) _embeddings[missing[i]] = vectors[i];
        }
        int d = _text.Dimension;
        var data = new float[tasks.Count * d];
        for (int k = 0; k < tasks.Count; k++)
        {
            var row = data.AsSpan(k * d, d);
            foreach (var name in tasks[k].Names)
            {
                var v = _embeddings[name];
                for (int j = 0; j < d; j++) row[j] += v[j];
            }
            TextVectors.Normalize(row);
        }
        return tensor(data, [tasks.Count, d]);
    }

    /// <summary>Inputs [M, B, …]: cached features for heads, normalised randomly augmented images for CNN-5K.</summary>
    private static Tensor Input(ImageSet set, int[][] batch, Tensor? features, Random rng)
    {
        int m = batch.Length, b = batch[0].Length;
        if (features is not null)
            return features.index_select(0, tensor(batch.SelectMany(x => x).Select(i => (long)i).ToArray())).view(m, b, -1);
        return Augmentation.ToTensor(set, batch, Normalization.Mean, Normalization.Std, Enumerable.Repeat(rng, m).ToArray());
    }

    private static Sequential CreateMixer(int textDim, int hidden, int outputs)
    {
        var last = nn.Linear(hidden, outputs);
        // A zero last layer starts every task at the plain average of the experts.
        using (no_grad())
        {
            last.weight!.zero_();
            last.bias!.zero_();
        }
        return nn.Sequential(("in", nn.Linear(textDim, hidden)), ("act", nn.ReLU()), ("out", last));
    }

    /// <summary>Maps a stage's fraction into its share of the whole.</summary>
    private sealed class Scaled(IProgress<double> sink, double offset, double share) : IProgress<double>
    {
        public void Report(double value) => sink.Report(offset + share * value);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _experts) t.Dispose();
        _mixer.Dispose();
        _features?.Dispose();
    }
}
