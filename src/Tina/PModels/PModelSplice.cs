namespace Tina.PModels;

/// <summary>
/// Puts the classifier (<c>fc.weight</c>, <c>fc.bias</c>) of one p-Model on the body (every other tensor) of another
/// of the same task. A diagnostic: with a generated and a fine-tuned p-Model of one class list, the two splices say
/// whether a generated p-Model loses its accuracy in the convolutions or in the classifier rows
/// (<c>tina eval --splice</c>).
/// </summary>
public static class PModelSplice
{
    /// <summary>A p-Model with the body of <paramref name="body"/> and the classifier of <paramref name="classifier"/>.</summary>
    /// <exception cref="ArgumentException">The two are of different architectures or class lists.</exception>
    public static PModel Combine(PModel body, PModel classifier)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(classifier);
        if (body.Arch != classifier.Arch)
            throw new ArgumentException($"Cannot splice a {classifier.Arch.ToName()} classifier onto a {body.Arch.ToName()} body.", nameof(classifier));
        if (!body.Labels.SequenceEqual(classifier.Labels, StringComparer.Ordinal))
            throw new ArgumentException($"Cannot splice the classifier of [{string.Join(", ", classifier.Labels)}] onto the body of [{string.Join(", ", body.Labels)}]: the class lists differ.", nameof(classifier));
        var vector = (float[])body.Parameters.Clone();
        foreach (var e in body.Layout.Entries.Where(e => e.Name.StartsWith("fc.", StringComparison.Ordinal)))
            body.Layout.Slice(classifier.Parameters, e.Name).CopyTo(body.Layout.Slice(vector, e.Name));
        return new PModel(body.Arch, body.Labels, vector, body.Frozen);
    }
}
