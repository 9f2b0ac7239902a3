namespace Tina.PModels;

/// <summary>
/// Several p-Models of the same architecture and the same class labels (in the same order) used together: their
/// softmax probabilities are averaged (the paper's Table 7 ensembles generated models). Tina samples one with
/// <c>TinaGenerator.GenerateEnsemble</c>, one member per seed; the ONNX exporter turns it into one graph.
/// </summary>
public sealed class PModelEnsemble
{
    /// <summary>Most members an ensemble may have.</summary>
    public const int MaxMembers = 16;

    /// <summary>Creates an ensemble; checks that the members agree on architecture and labels.</summary>
    /// <param name="members">The p-Models, 1 to <see cref="MaxMembers"/>.</param>
    /// <param name="seeds">The seed each member was sampled with (recorded in exported metadata); null when unknown.</param>
    /// <exception cref="ArgumentException">No member or too many, a member of another architecture or with other labels, or a seed count that differs from the member count.</exception>
    public PModelEnsemble(IReadOnlyList<PModel> members, IReadOnlyList<long>? seeds = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        CheckSize(members.Count, nameof(members));
        var first = members[0] ?? throw new ArgumentException("Ensemble member 0 is null.", nameof(members));
        for (int i = 1; i < members.Count; i++)
        {
            var m = members[i] ?? throw new ArgumentException($"Ensemble member {i} is null.", nameof(members));
            if (m.Arch != first.Arch)
                throw new ArgumentException($"Ensemble member {i} is a {m.Arch.ToName()} p-Model but member 0 is a {first.Arch.ToName()} p-Model; all members must have the same architecture.", nameof(members));
            if (!m.Labels.SequenceEqual(first.Labels, StringComparer.Ordinal))
                throw new ArgumentException($"Ensemble member {i} has the labels [{string.Join(", ", m.Labels)}] but member 0 has [{string.Join(", ", first.Labels)}]; all members must have the same labels in the same order.", nameof(members));
        }
        if (seeds is not null && seeds.Count != members.Count)
            throw new ArgumentException($"The ensemble has {members.Count} members but {seeds.Count} seeds.", nameof(seeds));
        Members = members.ToArray();
        Seeds = seeds?.ToArray();
    }

    /// <summary>The member p-Models.</summary>
    public IReadOnlyList<PModel> Members { get; }

    /// <summary>The seed of each member, or null when not known.</summary>
    public IReadOnlyList<long>? Seeds { get; }

    /// <summary>Number of members.</summary>
    public int Count => Members.Count;

    /// <summary>The members' architecture.</summary>
    public PModelArch Arch => Members[0].Arch;

    /// <summary>The members' class labels; output index i is <c>Labels[i]</c>.</summary>
    public IReadOnlyList<string> Labels => Members[0].Labels;

    /// <summary>Throws unless 1 ≤ <paramref name="size"/> ≤ <see cref="MaxMembers"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The size is out of range; the message names it.</exception>
    public static void CheckSize(int size, string paramName)
    {
        if (size < 1 || size > MaxMembers)
            throw new ArgumentOutOfRangeException(paramName, size, $"An ensemble has 1 to {MaxMembers} members; got {size}.");
    }
}
