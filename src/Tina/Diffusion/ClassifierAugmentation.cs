using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// Classifier augmentation (§2.2.3): each time a p-Model is drawn, shuffle the order of its prompt's classes and
/// permute the rows of fc.weight and the entries of fc.bias the same way, so slot i of the new prompt and row i of the
/// new classifier still belong to the same class. The p-Model computes the same function up to that relabelling, and
/// Tina sees C! orderings of each training task. Only the C real classes of a padded prompt are shuffled: the
/// '&lt;-&gt;' slots and the zero rows stay at the end, so padding masks are unchanged.
/// </summary>
public sealed class ClassifierAugmentation
{
    /// <summary>Augmentation for vectors in <paramref name="layout"/> (the padded, max-class layout).</summary>
    public ClassifierAugmentation(ParameterLayout layout)
    {
        Layout = layout;
    }

    /// <summary>The layout of the vectors being augmented.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>
    /// Gather indices [P]: new[j] = old[index[j]] moves classifier row/bias <c>permutation[i]</c> to slot i for
    /// i &lt; permutation.Count and leaves every other number in place.
    /// </summary>
    public static long[] PermutationIndex(ParameterLayout layout, IReadOnlyList<int> permutation)
    {
        CheckPermutation(permutation, layout.NumClasses);
        var index = new long[layout.Count];
        for (int j = 0; j < index.Length; j++) index[j] = j;
        var w = layout["fc.weight"];
        var b = layout["fc.bias"];
        int f = (int)w.Shape[1];
        for (int i = 0; i < permutation.Count; i++)
        {
            for (int k = 0; k < f; k++) index[w.Offset + i * f + k] = w.Offset + permutation[i] * f + k;
            index[b.Offset + i] = b.Offset + permutation[i];
        }
        return index;
    }

    /// <summary>The vector with its classes reordered: class <c>permutation[i]</c> becomes class i.</summary>
    public static float[] Permute(float[] vector, ParameterLayout layout, IReadOnlyList<int> permutation)
    {
        if (vector.Length != layout.Count) throw new ArgumentException($"Expected {layout.Count} numbers; got {vector.Length}.", nameof(vector));
        var index = PermutationIndex(layout, permutation);
        return index.Select(i => vector[i]).ToArray();
    }

    /// <summary>
    /// Shuffles each sample's first <c>classCounts[b]</c> classes: parameters [B, P] and class tokens [B, K, D] are
    /// gathered consistently. Returns new tensors (on the inputs' device) and the permutations used.
    /// </summary>
    public (Tensor Parameters, Tensor ClassTokens, int[][] Permutations) Apply(Tensor parameters, Tensor classTokens, IReadOnlyList<int> classCounts, Generator generator)
    {
        long batch = parameters.shape[0];
        if (parameters.ndim != 2 || parameters.shape[1] != Layout.Count)
            throw new ArgumentException($"Expected parameters [B, {Layout.Count}]; got [{string.Join(", ", parameters.shape)}].", nameof(parameters));
        if (classTokens.ndim != 3 || classTokens.shape[0] != batch || classTokens.shape[1] != Layout.NumClasses)
            throw new ArgumentException($"Expected class tokens [{batch}, {Layout.NumClasses}, D]; got [{string.Join(", ", classTokens.shape)}].", nameof(classTokens));
        if (classCounts.Count != batch) throw new ArgumentException($"Expected {batch} class counts; got {classCounts.Count}.", nameof(classCounts));
        int k = Layout.NumClasses;
        var perms = new int[batch][];
        var paramIndex = new long[batch * Layout.Count];
        var slotIndex = new long[batch * k];
        for (int b = 0; b < batch; b++)
        {
            if (classCounts[b] < 1 || classCounts[b] > k) throw new InvalidPromptException($"A prompt needs 1 to {k} classes; got {classCounts[b]}.");
            using (var p = randperm(classCounts[b], ScalarType.Int64, generator: generator))
                perms[b] = p.data<long>().Select(v => (int)v).ToArray();
            PermutationIndex(Layout, perms[b]).CopyTo(paramIndex, b * Layout.Count);
            for (int s = 0; s < k; s++) slotIndex[b * k + s] = s < perms[b].Length ? perms[b][s] : s;
        }
        using var scope = NewDisposeScope();
        var pi = tensor(paramIndex, [batch, Layout.Count]).to(parameters.device);
        var si = tensor(slotIndex, [batch, k, 1]).to(classTokens.device).expand(batch, k, classTokens.shape[2]);
        var newParams = parameters.gather(1, pi).MoveToOuterDisposeScope();
        var newTokens = classTokens.gather(1, si).MoveToOuterDisposeScope();
        return (newParams, newTokens, perms);
    }

    internal static void CheckPermutation(IReadOnlyList<int> permutation, int size)
    {
        if (permutation.Count > size) throw new ArgumentException($"A permutation of {permutation.Count} exceeds {size}.", nameof(permutation));
        var seen = new bool[permutation.Count];
        foreach (var p in permutation)
        {
            if (p < 0 || p >= permutation.Count || seen[p]) throw new ArgumentException($"[{string.Join(", ", permutation)}] is not a permutation.", nameof(permutation));
            seen[p] = true;
        }
    }
}
