using Tina.Data;
using Tina.Diffusion;
using Tina.Evaluation;
using Tina.PModels;
using Tina.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Generation;

/// <summary>
/// Tina as a personalization method: for each task, generate the p-Model of its class names (in prompt order) and
/// classify the test images with it, so that <see cref="PAcc.Evaluate"/> measures Tina's p-Acc like the baselines'.
/// When the generated part is only the classifier (ResNet-20: the backbone is frozen and the same in every generated
/// p-Model), the backbone's features of the test split are computed once and each task costs one matrix product, as
/// for classifier selection; the predictions are the same as running each whole network.
/// </summary>
public sealed class TinaMethod(TinaGenerator generator, GenerateOptions? options = null, string? name = null, Device? device = null) : IBatchedPersonalizationMethod, IDisposable
{
    private (ImageSet Set, Tensor Features)? _frozenFeatures;

    /// <summary>Prompts sampled together by <see cref="Prepare"/> (one batched diffusion run each).</summary>
    public const int PrepareBatch = 50;

    private readonly Dictionary<string, PModel> _prepared = new(StringComparer.Ordinal);

    private readonly GenerateOptions _options = options ?? new GenerateOptions();

    /// <inheritdoc />
    public string Name { get; } = name ?? ((options?.Sampler ?? DiffusionSampler.Ddim) == DiffusionSampler.Ddpm ? "tina-ddpm" : "tina");

    /// <summary>
    /// Samples the p-Models of <paramref name="tasks"/> in batches of <see cref="PrepareBatch"/> prompts (batch j uses
    /// the seed derived from the options' seed and j, so a rerun gives the same weights).
    /// </summary>
    public void Prepare(IReadOnlyList<PersonalizationTask> tasks, IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var todo = tasks.Where(t => !_prepared.ContainsKey(t.Prompt)).DistinctBy(t => t.Prompt).ToList();
        for (int start = 0, j = 0; start < todo.Count; start += PrepareBatch, j++)
        {
            cancel.ThrowIfCancellationRequested();
            var chunk = todo.Skip(start).Take(PrepareBatch).ToList();
            var models = generator.Generate(chunk.Select(t => (IReadOnlyList<string>)t.Names).ToList(),
                _options with { Seed = Runtime.Seeds.Derive((int)_options.Seed, j, 0x7A5) });
            for (int i = 0; i < chunk.Count; i++) _prepared[chunk[i].Prompt] = models[i];
            progress?.Report((double)(start + chunk.Count) / todo.Count);
        }
    }

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        var model = _prepared.Remove(task.Prompt, out var ready) ? ready : generator.Generate(task.Names, _options);
        using var net = model.ToNetwork();
        net.to(device ?? CPU);
        using var _ = no_grad();
        if (model.Frozen.Count > 0 && model.Layout.Entries.All(e => e.Name.StartsWith("fc.", StringComparison.Ordinal)))
        {
            if (_frozenFeatures?.Set != test)
            {
                _frozenFeatures?.Features.Dispose();
                _frozenFeatures = (test, Accuracy.Features(net, test, device));
            }
            using var scope = NewDisposeScope();
            var f = _frozenFeatures.Value.Features.index_select(0, tensor(indices.Select(i => (long)i).ToArray()));
            var logits = nn.functional.linear(f, net.fc.weight!.cpu(), net.fc.bias!.cpu());
            return logits.argmax(1).data<long>().Select(v => (int)v).ToArray();
        }
        var result = new int[indices.Length];
        const int batch = 500;
        for (int s = 0; s < indices.Length; s += batch)
        {
            var idx = indices.AsSpan(s, Math.Min(batch, indices.Length - s));
            using var scope = NewDisposeScope();
            var x = tensor(Augmentation.Batch(test, idx, Normalization.Mean, Normalization.Std, null), [idx.Length, 3, 32, 32]).to(device ?? CPU);
            var pred = net.forward(x).argmax(1).cpu();
            pred.data<long>().ToArray().Select(v => (int)v).ToArray().CopyTo(result, s);
        }
        return result;
    }

    /// <summary>Frees the cached backbone features.</summary>
    public void Dispose()
    {
        _frozenFeatures?.Features.Dispose();
        _frozenFeatures = null;
    }
}
