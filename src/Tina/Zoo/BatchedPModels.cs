using Tina.PModels;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tina.Runtime;

namespace Tina.Zoo;

/// <summary>
/// M p-Models of one architecture trained side by side as stacked tensors with a leading model dimension, so one
/// kernel call serves all of them: grouped convolutions for CNN-5K, batched matrix products for heads. Fine-tuning
/// many tiny models one at a time leaves the CPU idle between small kernels; stacking removes that overhead.
/// </summary>
public abstract class BatchedPModels : IDisposable
{
    /// <summary>Number of models (M).</summary>
    public int Models { get; protected init; }

    /// <summary>Classes per model (C).</summary>
    public int Classes { get; protected init; }

    /// <summary>The stacked trainable tensors, each [M, …], in <see cref="ParameterLayout"/> order.</summary>
    public abstract IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Logits [M, B, C] for inputs [M, B, …] (images for CNN-5K, features for heads).</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>The flat parameter vector of model <paramref name="m"/> (layout of <see cref="ParameterLayout"/>).</summary>
    public float[] Vector(int m)
    {
        var parts = new List<float>();
        foreach (var p in Parameters)
        {
            using var t = p[m].detach().contiguous();
            parts.AddRange(t.data<float>().ToArray());
        }
        return parts.ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var p in Parameters) p.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Stacks the per-model vectors [M][P] into leaf tensors shaped by the layout, with gradients.</summary>
    protected static Tensor[] Stack(ParameterLayout layout, IReadOnlyList<float[]> vectors)
    {
        var result = new Tensor[layout.Entries.Count];
        for (int e = 0; e < layout.Entries.Count; e++)
        {
            var entry = layout.Entries[e];
            var data = new float[vectors.Count * entry.Length];
            for (int m = 0; m < vectors.Count; m++)
                vectors[m].AsSpan(entry.Offset, entry.Length).CopyTo(data.AsSpan(m * entry.Length));
            result[e] = tensor(data, [vectors.Count, .. entry.Shape]).requires_grad_(true);
        }
        return result;
    }
}

/// <summary>M CNN-5K p-Models: input [M, B, 3, 32, 32] (normalised) → logits [M, B, C].</summary>
public sealed class BatchedCnn5k : BatchedPModels
{
    private readonly Tensor[] _p; // conv1 [M,16,3,3,3], conv2 [M,32,16,3,3], fc.weight [M,C,32], fc.bias [M,C]

    /// <summary>Starts the M models from the given flat vectors (e.g. classifier-selection p-Models).</summary>
    public BatchedCnn5k(IReadOnlyList<float[]> vectors, int classes)
    {
        Models = vectors.Count;
        Classes = classes;
        _p = Stack(ParameterLayout.For(PModelArch.Cnn5k, classes), vectors);
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Parameters => _p;

    /// <inheritdoc />
    public override Tensor Forward(Tensor x) => Forward(x, _p);

    /// <summary>
    /// Logits [M, B, C] of the M CNN-5K p-Models whose stacked tensors are <paramref name="p"/> (conv1, conv2,
    /// fc.weight, fc.bias, each [M, …]) for images [M, B, 3, 32, 32]; differentiable in <paramref name="p"/>.
    /// </summary>
    public static Tensor Forward(Tensor x, IReadOnlyList<Tensor> p)
    {
        using var scope = NewDisposeScope();
        long m = x.shape[0], b = x.shape[1];
        // Model m's images occupy channel group m: [B, M·3, 32, 32]; groups = M keeps the models apart.
        var h = x.transpose(0, 1).reshape(b, m * 3, 32, 32);
        h = F.relu(F.conv2d(h, p[0].reshape(m * 16, 3, 3, 3), strides: [2, 2], padding: [1, 1], groups: m));
        h = F.relu(F.conv2d(h, p[1].reshape(m * 32, 16, 3, 3), strides: [1, 1], padding: [1, 1], groups: m));
        var f = h.mean([2L, 3L]).view(b, m, 32).transpose(0, 1);          // [M, B, 32]
        var logits = bmm(f, p[2].transpose(1, 2)).Plus(p[3].unsqueeze(1));  // [M, B, C]
        return logits.MoveToOuterDisposeScope();
    }
}

/// <summary>M linear heads (ResNet-20's personalized part): features [M, B, D] → logits [M, B, C].</summary>
public sealed class BatchedHeads : BatchedPModels
{
    private readonly Tensor[] _p; // fc.weight [M,C,D], fc.bias [M,C]

    /// <summary>Starts the M heads from the given flat vectors.</summary>
    public BatchedHeads(IReadOnlyList<float[]> vectors, int classes)
    {
        Models = vectors.Count;
        Classes = classes;
        _p = Stack(ParameterLayout.For(PModelArch.ResNet20, classes), vectors);
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Parameters => _p;

    /// <inheritdoc />
    public override Tensor Forward(Tensor features) => Forward(features, _p);

    /// <summary>Logits [M, B, C] of the M heads <paramref name="p"/> (fc.weight [M, C, D], fc.bias [M, C]) for features [M, B, D].</summary>
    public static Tensor Forward(Tensor features, IReadOnlyList<Tensor> p)
    {
        using var w = p[0].transpose(1, 2);
        using var xw = bmm(features, w);
        using var b = p[1].unsqueeze(1);
        return xw.Plus(b);
    }
}
