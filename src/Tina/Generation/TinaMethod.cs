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
/// </summary>
public sealed class TinaMethod(TinaGenerator generator, GenerateOptions? options = null, string? name = null, Device? device = null) : IPersonalizationMethod
{
    private readonly GenerateOptions _options = options ?? new GenerateOptions();

    /// <inheritdoc />
    public string Name { get; } = name ?? ((options?.Sampler ?? DiffusionSampler.Ddim) == DiffusionSampler.Ddpm ? "tina-ddpm" : "tina");

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        var model = generator.Generate(task.Names, _options);
        using var net = model.ToNetwork();
        net.to(device ?? CPU);
        using var _ = no_grad();
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
}
