using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// G.pt's neuron-permutation augmentation, kept as an ablation (the paper finds it hurts Tina, §2.2.3): for CNN-5K,
/// permute conv1's 16 output channels together with conv2's input channels, and conv2's 32 output channels together
/// with the columns of fc.weight. The network computes exactly the same function. The ResNet-20 head has no hidden
/// neurons to permute, so only CNN-5K is supported.
/// </summary>
public sealed class NeuronPermutationAugmentation
{
    private readonly int _c1, _c2;

    /// <summary>Augmentation for CNN-5K vectors in <paramref name="layout"/>.</summary>
    /// <exception cref="TinaException">The layout is not CNN-5K.</exception>
    public NeuronPermutationAugmentation(ParameterLayout layout)
    {
        if (layout.Arch != PModelArch.Cnn5k)
            throw new TinaException($"Neuron-permutation augmentation needs CNN-5K p-Models; {layout.Arch.ToName()} has no hidden neurons in its personalized part.");
        Layout = layout;
        _c1 = (int)layout["conv1.weight"].Shape[0];
        _c2 = (int)layout["conv2.weight"].Shape[0];
    }

    /// <summary>The layout of the vectors being augmented.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>
    /// Gather indices [P] (new[j] = old[index[j]]) for hidden unit <c>conv1Permutation[o]</c> becoming unit o of conv1
    /// and <c>conv2Permutation[o]</c> becoming unit o of conv2.
    /// </summary>
    public long[] PermutationIndex(IReadOnlyList<int> conv1Permutation, IReadOnlyList<int> conv2Permutation)
    {
        if (conv1Permutation.Count != _c1 || conv2Permutation.Count != _c2)
            throw new ArgumentException($"Expected permutations of {_c1} and {_c2} channels.");
        ClassifierAugmentation.CheckPermutation(conv1Permutation, _c1);
        ClassifierAugmentation.CheckPermutation(conv2Permutation, _c2);
        var index = new long[Layout.Count];
        for (int j = 0; j < index.Length; j++) index[j] = j;
        var w1 = Layout["conv1.weight"];       // [c1, 3, k, k]
        var w2 = Layout["conv2.weight"];       // [c2, c1, k, k]
        var fc = Layout["fc.weight"];          // [C, c2]
        int per1 = w1.Length / _c1, kk = w2.Length / (_c2 * _c1);
        for (int o = 0; o < _c1; o++)
            for (int r = 0; r < per1; r++) index[w1.Offset + o * per1 + r] = w1.Offset + conv1Permutation[o] * per1 + r;
        for (int o = 0; o < _c2; o++)
            for (int i = 0; i < _c1; i++)
                for (int r = 0; r < kk; r++)
                    index[w2.Offset + (o * _c1 + i) * kk + r] = w2.Offset + (conv2Permutation[o] * _c1 + conv1Permutation[i]) * kk + r;
        int rows = (int)fc.Shape[0];
        for (int c = 0; c < rows; c++)
            for (int j = 0; j < _c2; j++) index[fc.Offset + c * _c2 + j] = fc.Offset + c * _c2 + conv2Permutation[j];
        return index;
    }

    /// <summary>Applies an independent random neuron permutation to each vector of <paramref name="parameters"/> [B, P].</summary>
    public Tensor Apply(Tensor parameters, Generator generator)
    {
        if (parameters.ndim != 2 || parameters.shape[1] != Layout.Count)
            throw new ArgumentException($"Expected parameters [B, {Layout.Count}]; got [{string.Join(", ", parameters.shape)}].", nameof(parameters));
        long batch = parameters.shape[0];
        var all = new long[batch * Layout.Count];
        for (int b = 0; b < batch; b++)
            PermutationIndex(RandomPermutation(_c1, generator), RandomPermutation(_c2, generator)).CopyTo(all, b * Layout.Count);
        using var index = tensor(all, [batch, Layout.Count]).to(parameters.device);
        return parameters.gather(1, index);
    }

    private static int[] RandomPermutation(int n, Generator generator)
    {
        using var p = randperm(n, ScalarType.Int64, generator: generator);
        return p.data<long>().Select(v => (int)v).ToArray();
    }
}
