using Tina.Data;
using Tina.Evaluation;
using Tina.Generic;
using Tina.PModels;
using Tina.Runtime;
using Tina.Runtime.Optim;
using Tina.Tasks;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Tina.Zoo;

/// <summary>A fine-tuned p-Model: its task, seed, parameters and measured p-Acc on the task's test images.</summary>
/// <param name="Task">The ordered class list.</param>
/// <param name="Seed">Seed of its data order and augmentation.</param>
/// <param name="Parameters">Flat parameters (<see cref="ParameterLayout"/>).</param>
/// <param name="PAcc">p-Acc (%) on the test split restricted to the task.</param>
public sealed record FineTuned(PersonalizationTask Task, int Seed, float[] Parameters, double PAcc);

/// <summary>
/// Stage 2: fine-tunes groups of p-Models at once from the generic model. CNN-5K: all parameters, starting from the
/// generic convolutions and the generic classifier rows of the task's classes; ResNet-20: the head only, on backbone
/// features computed once. Each p-Model sees exactly the batches it would see alone (its own seeded order), and
/// models are independent, so a group of M gives the same p-Models as M runs of one (up to float rounding).
/// </summary>
public sealed class FineTuner : IDisposable
{
    private readonly GenericModel _generic;
    private readonly ImageDataset _data;
    private readonly FineTuneOptions _o;
    private readonly Tensor? _trainFeatures, _testFeatures;
    private readonly bool _ownsFeatures; // features passed in stay the caller's

    /// <summary>
    /// Prepares fine-tuning; for ResNet-20 computes the backbone features of both splits (<see cref="HeadFeatures"/>),
    /// or takes <paramref name="features"/> made by it with the same <see cref="FineTuneOptions.AugmentedViews"/>
    /// (they stay the caller's to dispose).
    /// </summary>
    public FineTuner(GenericModel generic, ImageDataset data, FineTuneOptions options, (Tensor Train, Tensor Test)? features = null)
    {
        _generic = generic;
        _data = data;
        _o = options;
        _ownsFeatures = features is null;
        if (options.L2SP < 0 || double.IsNaN(options.L2SP)) throw new TinaException($"The L2-SP strength must be 0 or more; got {options.L2SP}.");
        if (!(options.BodyLearningRateScale >= 0)) throw new TinaException($"The body's learning-rate share must be 0 or more; got {options.BodyLearningRateScale}.");
        if (options.AugmentedViews < 0) throw new TinaException($"Augmented views must be 0 or more; got {options.AugmentedViews}.");
        if (!generic.Arch.IsHeadOnly()) return;
        (_trainFeatures, _testFeatures) = features ?? HeadFeatures(generic, data, options.AugmentedViews);
        long expected = (long)Math.Max(1, options.AugmentedViews) * data.Train.Count;
        if (_trainFeatures.shape[0] != expected)
            throw new TinaException($"The head features hold {_trainFeatures.shape[0]} training rows; {options.AugmentedViews} augmented views of {data.Train.Count} images need {expected}.");
    }

    /// <summary>
    /// Backbone features for head fine-tuning: the training split as <paramref name="augmentedViews"/> seeded random
    /// views stacked view after view ([V·N, D]; the plain images when 0), and the un-augmented test split [N, D].
    /// The views depend only on the generic model, the data and their index, so every process builds the same ones.
    /// </summary>
    public static (Tensor Train, Tensor Test) HeadFeatures(GenericModel generic, ImageDataset data, int augmentedViews)
    {
        Tensor train;
        if (augmentedViews == 0) train = Accuracy.Features(generic.Network, data.Train);
        else
        {
            var views = new List<Tensor>();
            for (int v = 0; v < augmentedViews; v++) views.Add(Accuracy.Features(generic.Network, data.Train, view: v));
            train = cat(views, 0);
            foreach (var t in views) t.Dispose();
        }
        return (train, Accuracy.Features(generic.Network, data.Test));
    }

    private double Lr => _o.LearningRate ?? Recipes.For(_generic.Arch).Zoo.LearningRate;

    /// <summary>
    /// Fine-tunes one group of tasks (of any class counts) together; <paramref name="progress"/> receives
    /// the fraction of the group's steps done.
    /// </summary>
    public IReadOnlyList<FineTuned> Train(IReadOnlyList<(PersonalizationTask Task, int Seed)> group, CancellationToken cancel = default, IProgress<double>? progress = null)
    {
        int m = group.Count, b = _o.BatchSize;
        var counts = group.Select(g => g.Task.Count).ToArray();
        int c = counts.Max();
        // Tasks with fewer classes than the group's largest get zero extra rows whose logits are masked to -1e9: they
        // get no gradient, stay zero and are cut off again, so each p-Model trains exactly as it would alone.
        var init = group.Select(g => ParameterLayout.For(_generic.Arch, g.Task.Count).Resize(ClassifierSelection.Create(_generic, g.Task).Parameters, c)).ToList();
        using var classMask = counts.All(x => x == c) ? null : LogitMask(counts, c);
        using BatchedPModels models = _generic.Arch == PModelArch.Cnn5k ? new BatchedCnn5k(init, c) : new BatchedHeads(_generic.Arch, init, c);
        // Optimizer state and the L2-SP anchors (the starting values: generic weights, the task's generic rows) live
        // until the group is done.
        using var groupScope = NewDisposeScope();
        var anchors = _o.L2SP > 0 ? models.Parameters.Select(p => p.detach().clone()).ToArray() : null;
        var rateScales = models.Parameters.Select((_, i) => i < models.BodyTensors ? _o.BodyLearningRateScale : 1.0).ToArray();
        var sgd = new MaskedSgd(models.Parameters, 0.9, _o.WeightDecay, anchors, _o.L2SP, rateScales);

        var trainIdx = group.Select(g => _data.Train.IndicesOf(g.Task.Classes.ToHashSet())).ToArray();
        var relabel = group.Select(g => Relabel(g.Task)).ToArray();
        var steps = trainIdx.Select(ix => ix.Length / b).ToArray();
        if (steps.Any(s => s == 0)) throw new TinaException($"A task has fewer training images than the batch size {b}.");
        int maxSteps = steps.Max();
        var lr = new float[m];
        for (int epoch = 0; epoch < _o.Epochs; epoch++)
        {
            var orders = new int[m][];
            var rngs = new Random[m];
            for (int k = 0; k < m; k++)
            {
                rngs[k] = new Random(Seeds.Derive(group[k].Seed, epoch));
                orders[k] = (int[])trainIdx[k].Clone();
                rngs[k].Shuffle(orders[k]);
            }
            for (int s = 0; s < maxSteps; s++)
            {
                cancel.ThrowIfCancellationRequested();
                // A model whose epoch is over (fewer images than the group's largest task) is inactive for the
                // rest of the epoch: no batch, no forward pass, its loss masked out, its parameters untouched.
                var batchIdx = new int[]?[m];
                var on = new bool[m];
                var labels = new long[m * b];
                for (int k = 0; k < m; k++)
                {
                    on[k] = s < steps[k];
                    long t = (long)epoch * steps[k] + s, total = (long)_o.Epochs * steps[k];
                    lr[k] = on[k] ? (float)new WarmupCosineSchedule(Lr, total).At(t) : 0;
                    if (!on[k]) continue;
                    batchIdx[k] = orders[k][(s * b)..((s + 1) * b)];
                    for (int j = 0; j < b; j++) labels[k * b + j] = relabel[k][_data.Train.Labels[batchIdx[k]![j]]];
                }
                using var scope = NewDisposeScope();
                var input = Input(batchIdx, train: true, rngs);
                var logits = Masked(models.Forward(input, on), classMask);            // [M, B, C]
                var y = tensor(labels).view(m, b);
                var perSample = F.cross_entropy(logits.reshape(m * b, c), y.view(m * b), reduction: nn.Reduction.None, label_smoothing: _o.LabelSmoothing).view(m, b);
                var active = on.Select(x => x ? 1f : 0f).ToArray();
                var loss = (perSample.mean([1L]) * tensor(active)).sum();
                loss.backward();
                sgd.Step(lr, active);
                progress?.Report((epoch * maxSteps + s + 1.0) / (_o.Epochs * maxSteps));
            }
        }
        var pacc = Evaluate(models, group.Select(g => g.Task).ToArray(), classMask);
        var layout = ParameterLayout.For(_generic.Arch, c);
        return group.Select((g, k) => new FineTuned(g.Task, g.Seed, layout.Resize(models.Vector(k), counts[k]), pacc[k])).ToList();
    }

    /// <summary>[M, 1, C]: 0 for each model's real classes, −1e9 for its padding classes.</summary>
    private static Tensor LogitMask(int[] counts, int c)
    {
        var data = new float[counts.Length * c];
        for (int k = 0; k < counts.Length; k++)
            for (int j = counts[k]; j < c; j++) data[k * c + j] = -1e9f;
        return tensor(data, [counts.Length, 1, c]);
    }

    private static Tensor Masked(Tensor logits, Tensor? mask) => mask is null ? logits : logits.Plus(mask);

    /// <summary>p-Acc (%) of each of the stacked models on its own task's test images.</summary>
    private double[] Evaluate(BatchedPModels models, PersonalizationTask[] tasks, Tensor? classMask)
    {
        using var _ = no_grad();
        int m = tasks.Length;
        var testIdx = tasks.Select(t => _data.Test.IndicesOf(t.Classes.ToHashSet())).ToArray();
        var relabel = tasks.Select(Relabel).ToArray();
        var correct = new int[m];
        int maxN = testIdx.Max(ix => ix.Length), chunk = 200;
        for (int s = 0; s < maxN; s += chunk)
        {
            int n = Math.Min(chunk, maxN - s);
            // Shorter test sets are padded by repeating their first image; padded rows are not counted.
            var idx = testIdx.Select(ix => Enumerable.Range(s, n).Select(j => j < ix.Length ? ix[j] : ix[0]).ToArray()).ToArray();
            using var scope = NewDisposeScope();
            var pred = Masked(models.Forward(Input(idx, train: false, null)), classMask).argmax(2L).data<long>().ToArray();
            for (int k = 0; k < m; k++)
                for (int j = 0; j < n && s + j < testIdx[k].Length; j++)
                    if (pred[k * n + j] == relabel[k][_data.Test.Labels[idx[k][j]]]) correct[k]++;
        }
        return correct.Select((cnt, k) => 100.0 * cnt / testIdx[k].Length).ToArray();
    }

    /// <summary>
    /// Inputs [M, B, …]: normalised (augmented) images for CNN-5K, cached features for heads. An inactive model (null
    /// indices) gets zeros for CNN-5K and any rows for heads; its loss is masked out.
    /// </summary>
    private Tensor Input(int[]?[] idx, bool train, Random[]? rngs)
    {
        int m = idx.Length, b = idx.First(ix => ix is not null)!.Length;
        if (_generic.Arch.IsHeadOnly())
        {
            // With augmented views each training image is read from one view drawn by its p-Model's own generator.
            int views = train ? _o.AugmentedViews : 0, n = _data.Train.Count;
            var flat = tensor(idx.SelectMany((ix, k) => ix is null ? new long[b] : ix.Select(i => views == 0 ? i : (long)rngs![k].Next(views) * n + i)).ToArray());
            return (train ? _trainFeatures! : _testFeatures!).index_select(0, flat).view(m, b, -1);
        }
        return Augmentation.ToTensor(train ? _data.Train : _data.Test, idx, Normalization.Mean, Normalization.Std, train && _o.Augment ? rngs : null);
    }

    private int[] Relabel(PersonalizationTask task)
    {
        var map = Enumerable.Repeat(-1, _data.NumClasses).ToArray();
        for (int i = 0; i < task.Count; i++) map[task.Classes[i]] = i;
        return map;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!_ownsFeatures) return;
        _trainFeatures?.Dispose();
        _testFeatures?.Dispose();
    }
}
