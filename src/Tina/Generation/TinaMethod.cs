using Tina.Data;
using Tina.Diffusion;
using Tina.Evaluation;
using Tina.PModels;
using Tina.Tasks;
using Tina.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Generation;

/// <summary>
/// Tina as a personalization method: for each task, generate the p-Model of its class names (in prompt order) and
/// classify the test images with it, so that <see cref="PAcc.Evaluate"/> measures Tina's p-Acc like the baselines'.
/// When the generated part is only the classifier (ResNet-20: the backbone is frozen and the same in every generated
/// p-Model), the backbone's features of the test split are computed once and each task costs one matrix product, as
/// for classifier selection; the predictions are the same as running each whole network. With
/// <see cref="GenerateOptions.EnsembleSize"/> K &gt; 1 each task gets a seed ensemble of K p-Models and an image's
/// class is the argmax of the K members' mean softmax probabilities (the exported ensemble ONNX computes the same);
/// on a frozen backbone the K heads share the cached features.
/// </summary>
/// <param name="generator">The trained generator.</param>
/// <param name="options">Sampling options.</param>
/// <param name="name">Name in reports (default <see cref="DefaultName"/>).</param>
/// <param name="device">Device the p-Models run on.</param>
/// <param name="prompts">What each task's classes are conditioned on (e.g. their descriptions); null: their names.</param>
/// <param name="transform">Applied to each generated p-Model before it classifies (e.g. a <see cref="PModelSplice"/> with
/// the task's fine-tuned p-Model, to see which part of the generated one loses accuracy); null: none.</param>
public sealed class TinaMethod(TinaGenerator generator, GenerateOptions? options = null, string? name = null, Device? device = null,
    Func<PersonalizationTask, IReadOnlyList<ClassPrompt>>? prompts = null, Func<PersonalizationTask, PModel, PModel>? transform = null)
    : IBatchedPersonalizationMethod, IDisposable
{
    private readonly Func<PersonalizationTask, IReadOnlyList<ClassPrompt>> _prompts = prompts ?? (t => ClassPrompt.OfNames(t.Names));

    private (ImageSet Set, Tensor Features)? _frozenFeatures;

    /// <summary>Prompts sampled together by <see cref="Prepare"/> (one batched diffusion run each; with an ensemble of K, this many p-Models: ⌊50 / K⌋ prompts).</summary>
    public const int PrepareBatch = 50;

    private readonly Dictionary<string, PModelEnsemble> _prepared = new(StringComparer.Ordinal);

    private readonly GenerateOptions _options = Checked(options ?? new GenerateOptions());

    /// <inheritdoc />
    public string Name { get; } = name ?? DefaultName(options ?? new GenerateOptions());

    /// <summary>The default method name: <c>tina</c> (DDIM) or <c>tina-ddpm</c>, with <c>-ensK</c> appended for an ensemble of K.</summary>
    public static string DefaultName(GenerateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var n = options.Sampler == DiffusionSampler.Ddpm ? "tina-ddpm" : "tina";
        return options.EnsembleSize == 1 ? n : $"{n}-ens{options.EnsembleSize}";
    }

    /// <summary>
    /// Samples the p-Models of <paramref name="tasks"/> in batches of <see cref="PrepareBatch"/> prompts (⌊50 / K⌋ for an
    /// ensemble of K; batch j uses the seed derived from the options' seed and j, so a rerun gives the same weights).
    /// </summary>
    public void Prepare(IReadOnlyList<PersonalizationTask> tasks, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var todo = tasks.Where(t => !_prepared.ContainsKey(t.Prompt)).DistinctBy(t => t.Prompt).ToList();
        int perRun = Math.Max(1, PrepareBatch / _options.EnsembleSize);
        for (int start = 0, j = 0; start < todo.Count; start += perRun, j++)
        {
            cancel.ThrowIfCancellationRequested();
            var chunk = todo.Skip(start).Take(perRun).ToList();
            var models = generator.GenerateEnsembles(chunk.Select(_prompts).ToList(),
                _options with { Seed = Runtime.Seeds.Derive((int)_options.Seed, j, 0x7A5) });
            for (int i = 0; i < chunk.Count; i++) _prepared[chunk[i].Prompt] = models[i];
            progress?.Report((double)(start + chunk.Count) / todo.Count);
        }
    }

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        var ensemble = _prepared.Remove(task.Prompt, out var ready) ? ready : generator.GenerateEnsembles([_prompts(task)], _options)[0];
        var nets = ensemble.Members.Select(m => (transform?.Invoke(task, m) ?? m).ToNetwork()).ToList();
        try
        {
            foreach (var net in nets) net.to(device ?? CPU);
            using var _ = no_grad();
            var first = ensemble.Members[0];
            if (first.Arch.IsHeadOnly())
            {
                if (_frozenFeatures?.Set != test)
                {
                    _frozenFeatures?.Features.Dispose();
                    _frozenFeatures = (test, Accuracy.Features(nets[0], test, device));
                }
                using var scope = NewDisposeScope();
                var f = _frozenFeatures.Value.Features.index_select(0, tensor(indices.Select(i => (long)i).ToArray()));
                var scores = Combine(nets.Select(net => nn.functional.linear(f, net.fc.weight!.cpu(), net.fc.bias!.cpu())).ToList());
                return scores.argmax(1).data<long>().Select(v => (int)v).ToArray();
            }
            var result = new int[indices.Length];
            const int batch = 500;
            for (int s = 0; s < indices.Length; s += batch)
            {
                var idx = indices.AsSpan(s, Math.Min(batch, indices.Length - s));
                using var scope = NewDisposeScope();
                var x = Augmentation.ToTensor(test, idx, Normalization.Mean, Normalization.Std, null).to(device ?? CPU);
                var pred = Combine(nets.Select(net => net.forward(x)).ToList()).argmax(1).cpu();
                pred.data<long>().ToArray().Select(v => (int)v).ToArray().CopyTo(result, s);
            }
            return result;
        }
        finally
        {
            foreach (var net in nets) net.Dispose();
        }
    }

    /// <summary>
    /// What the argmax is taken of: a single p-Model's logits (as before ensembles), or the sum of the members' softmax
    /// probabilities (the same argmax as their mean).
    /// </summary>
    private static Tensor Combine(List<Tensor> logits)
    {
        if (logits.Count == 1) return logits[0];
        var sum = logits[0].softmax(1);
        for (int m = 1; m < logits.Count; m++) sum = sum.PlusInPlace(logits[m].softmax(1));
        return sum;
    }

    private static GenerateOptions Checked(GenerateOptions options)
    {
        PModelEnsemble.CheckSize(options.EnsembleSize, nameof(options));
        return options;
    }

    /// <summary>Frees the cached backbone features.</summary>
    public void Dispose()
    {
        _frozenFeatures?.Features.Dispose();
        _frozenFeatures = null;
    }
}
