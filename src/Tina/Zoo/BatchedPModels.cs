using Tina.PModels;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;
using Tina.Runtime;

namespace Tina.Zoo;

/// <summary>
/// M p-Models of one architecture trained side by side as stacked tensors with a leading model dimension, so one
/// kernel call serves most of them (batched matrix products for the classifiers; CNN-5K's convolutions run per model,
/// see <see cref="BatchedCnn5k.Forward(Tensor, IReadOnlyList{Tensor}, bool[])"/>). Fine-tuning many tiny models one at a time
/// leaves the CPU idle between small kernels and optimizer steps; stacking removes most of that overhead.
/// </summary>
public abstract class BatchedPModels : IDisposable
{
    /// <summary>Number of models (M).</summary>
    public int Models { get; protected init; }

    /// <summary>Classes per model (C).</summary>
    public int Classes { get; protected init; }

    /// <summary>The stacked trainable tensors, each [M, …], in <see cref="ParameterLayout"/> order.</summary>
    public abstract IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>How many of the first <see cref="Parameters"/> belong to the body (before the classifier).</summary>
    public abstract int BodyTensors { get; }

    /// <summary>
    /// Logits [M, B, C] for inputs [M, B, …] (images for CNN-5K, features for heads). Models whose
    /// <paramref name="active"/> entry is false may be skipped: their logits are then the bias alone and carry no
    /// gradient to their other parameters (the caller masks their loss).
    /// </summary>
    public abstract Tensor Forward(Tensor input, bool[]? active = null);

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
    public override int BodyTensors => 2;

    /// <inheritdoc />
    public override Tensor Forward(Tensor x, bool[]? active = null) => Forward(x, _p, active);

    /// <summary>
    /// Logits [M, B, C] of the M CNN-5K p-Models whose stacked tensors are <paramref name="p"/> (conv1, conv2,
    /// fc.weight, fc.bias, each [M, …]) for images [M, B, 3, 32, 32]; differentiable in <paramref name="p"/>.
    /// </summary>
    /// <remarks>
    /// The convolutions run model by model, not as one grouped convolution (groups = M): on CPU libtorch's grouped
    /// convolution was slower than M ordinary ones for these shapes (M = 8, B = 64, 2 cores, in a one-off profile:
    /// 33.5 ms against 25.3 ms per forward + backward step, same outputs; docs/RESULTS.md, "Throughput against the
    /// compute floor"). The linear heads stay one batched product.
    /// A model whose <paramref name="active"/> entry is false is skipped (zero features; its logits are its bias), so
    /// a group of tasks with different numbers of steps per epoch only computes the models still training.
    /// </remarks>
    public static Tensor Forward(Tensor x, IReadOnlyList<Tensor> p, bool[]? active = null)
    {
        using var scope = NewDisposeScope();
        long m = x.shape[0], b = x.shape[1];
        var features = new Tensor[m];
        for (int k = 0; k < m; k++)
        {
            if (active is not null && !active[k]) { features[k] = zeros([b, 32]); continue; }
            var h = F.relu(F.conv2d(x[k], p[0][k], strides: [2, 2], padding: [1, 1]));
            h = F.relu(F.conv2d(h, p[1][k], strides: [1, 1], padding: [1, 1]));
            features[k] = h.mean([2L, 3L]);                                  // [B, 32]
        }
        var f = stack(features, 0);                                          // [M, B, 32]
        var logits = bmm(f, p[2].transpose(1, 2)).Plus(p[3].unsqueeze(1));  // [M, B, C]
        return logits.MoveToOuterDisposeScope();
    }
}

/// <summary>M linear heads (ResNet-20's or ResNet-18's personalized part): features [M, B, D] → logits [M, B, C].</summary>
public sealed class BatchedHeads : BatchedPModels
{
    private readonly Tensor[] _p; // fc.weight [M,C,D], fc.bias [M,C]

    /// <summary>Starts the M heads of architecture <paramref name="arch"/> (a head-only one) from the given flat vectors.</summary>
    public BatchedHeads(PModelArch arch, IReadOnlyList<float[]> vectors, int classes)
    {
        if (!arch.IsHeadOnly()) throw new ArgumentException($"{arch.ToName()} p-Models are not linear heads.", nameof(arch));
        Models = vectors.Count;
        Classes = classes;
        _p = Stack(ParameterLayout.For(arch, classes), vectors);
    }

    /// <inheritdoc />
    public override IReadOnlyList<Tensor> Parameters => _p;

    /// <inheritdoc />
    public override int BodyTensors => 0;

    /// <inheritdoc />
    public override Tensor Forward(Tensor features, bool[]? active = null) => Forward(features, _p);

    /// <summary>Logits [M, B, C] of the M heads <paramref name="p"/> (fc.weight [M, C, D], fc.bias [M, C]) for features [M, B, D].</summary>
    public static Tensor Forward(Tensor features, IReadOnlyList<Tensor> p)
    {
        using var w = p[0].transpose(1, 2);
        using var xw = bmm(features, w);
        using var b = p[1].unsqueeze(1);
        return xw.Plus(b);
    }
}
