using Tina.PModels;

namespace Tina.Diffusion;

/// <summary>
/// Task mixing (not in the paper): a training sample whose classes are drawn at random and whose classifier row and
/// bias for each class are taken from another p-Model of the zoo that has that class, the other parameters (CNN-5K's
/// convolutions) from the drawn p-Model. In a zoo fine-tuned from one generic model the rows of a class barely depend
/// on the task (CIFAR-100 CNN-5K: 0.08 % of the rows' variance is within a class), so a mixed sample is close to a real
/// p-Model of a task the zoo does not have. A zoo of a few hundred tasks then shows Tina many more class combinations;
/// with the zoo's own tasks alone, a small generator did not learn to follow the prompt (docs/RESULTS.md).
/// </summary>
public sealed class TaskMixing
{
    private readonly ParameterLayout _layout;
    private readonly int _slots;
    private readonly int[] _counts; // classes of each p-Model
    private readonly (int Entry, int Slot)[][] _occurrences; // per class id: where its rows are
    private readonly int[] _classes;

    /// <summary>
    /// Mixing over a zoo whose p-Model i has the class ids <c>classesOfEntries[i]</c> in slot order; vectors are in
    /// <paramref name="layout"/> (the padded layout: one class slot per classifier row).
    /// </summary>
    public TaskMixing(ParameterLayout layout, IReadOnlyList<int[]> classesOfEntries)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(classesOfEntries);
        if (classesOfEntries.Count == 0) throw new ArgumentException("The zoo has no p-Models.", nameof(classesOfEntries));
        _layout = layout;
        _slots = layout.NumClasses;
        _counts = classesOfEntries.Select(c => c.Length).ToArray();
        int most = _counts.Max();
        if (most > layout.NumClasses) throw new ArgumentException($"{most} classes do not fit {layout.NumClasses} classifier rows.");
        int maxClass = classesOfEntries.Max(c => c.Max());
        var lists = Enumerable.Range(0, maxClass + 1).Select(_ => new List<(int, int)>()).ToArray();
        for (int i = 0; i < classesOfEntries.Count; i++)
            for (int s = 0; s < _counts[i]; s++) lists[classesOfEntries[i][s]].Add((i, s));
        _occurrences = lists.Select(l => l.ToArray()).ToArray();
        _classes = Enumerable.Range(0, lists.Length).Where(c => lists[c].Count > 0).ToArray();
        if (_classes.Length < most) throw new ArgumentException($"The zoo has only {_classes.Length} classes; a task needs {most}.");
    }

    /// <summary>The class ids that occur in the zoo.</summary>
    public IReadOnlyList<int> Classes => _classes;

    /// <summary>
    /// Gather indices for a batch drawn from p-Models <paramref name="entries"/>: <c>ParameterIndex</c> [B·P] into the
    /// zoo's vectors flattened [N·P], <c>SlotIndex</c> [B·K] into its class tokens flattened [N·K]. Sample b is mixed
    /// when <c>mixed[b]</c>: new random classes, each with the row, bias and text token of a random p-Model that has it.
    /// A mixed sample keeps the class count of the p-Model it replaces. Unmixed samples (and the padding slots) are
    /// gathered unchanged.
    /// </summary>
    public (long[] ParameterIndex, long[] SlotIndex) Indices(IReadOnlyList<int> entries, IReadOnlyList<bool> mixed, Random rng)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(mixed);
        if (mixed.Count != entries.Count) throw new ArgumentException($"Expected {entries.Count} flags; got {mixed.Count}.", nameof(mixed));
        int p = _layout.Count, b = entries.Count;
        var w = _layout["fc.weight"];
        var bias = _layout["fc.bias"];
        int f = (int)w.Shape[1];
        var paramIndex = new long[(long)b * p];
        var slotIndex = new long[(long)b * _slots];
        for (int i = 0; i < b; i++)
        {
            long baseP = (long)entries[i] * p;
            for (int j = 0; j < p; j++) paramIndex[(long)i * p + j] = baseP + j;
            for (int s = 0; s < _slots; s++) slotIndex[(long)i * _slots + s] = (long)entries[i] * _slots + s;
            if (!mixed[i]) continue;
            var classes = (int[])_classes.Clone();
            rng.Shuffle(classes);
            for (int s = 0; s < _counts[entries[i]]; s++)
            {
                var occ = _occurrences[classes[s]];
                var (entry, slot) = occ[rng.Next(occ.Length)];
                long src = (long)entry * p;
                for (int k = 0; k < f; k++) paramIndex[(long)i * p + w.Offset + s * f + k] = src + w.Offset + slot * f + k;
                paramIndex[(long)i * p + bias.Offset + s] = src + bias.Offset + slot;
                slotIndex[(long)i * _slots + s] = (long)entry * _slots + slot;
            }
        }
        return (paramIndex, slotIndex);
    }
}
