namespace Tina.Data;

/// <summary>
/// One vocabulary across datasets: their classes merged by name, so that one zoo and one generator cover every class
/// of CIFAR-100, Caltech-101 and Mini-ImageNet (on a backbone that serves them all, ML.NET's ResNet-18).
/// </summary>
public static class Vocabulary
{
    /// <summary>
    /// Merges <paramref name="datasets"/> into one: a class of a later dataset whose name (or one of its synonyms)
    /// resolves to a class already merged joins it (Caltech-101's "Motorbikes" is CIFAR-100's "motorcycle", "chair" is
    /// "chair"); the others are appended, in order. Each split holds the datasets' splits one after the other, relabelled
    /// (<see cref="ImageSet.Concat"/>, so their cached backbone features serve the merged splits), and
    /// <see cref="ImageDataset.ClassSources"/> says which datasets each class's images come from.
    /// </summary>
    /// <param name="datasets">The datasets, the first one's names and order first.</param>
    /// <param name="name">The merged dataset's name (its id in the catalog: <c>merged</c>).</param>
    /// <exception cref="ArgumentException">Fewer than two datasets.</exception>
    public static ImageDataset Merge(IReadOnlyList<ImageDataset> datasets, string name = "merged")
    {
        ArgumentNullException.ThrowIfNull(datasets);
        if (datasets.Count < 2) throw new ArgumentException("Merging needs at least two datasets.", nameof(datasets));
        var names = new List<string>();
        var sources = new List<List<string>>();
        var relabel = new List<int[]>();
        // A running dataset of the names merged so far resolves later names with every dataset's synonyms.
        foreach (var d in datasets)
        {
            var map = new int[d.NumClasses];
            var merged = names.Count == 0 ? null : Named(names, name);
            for (int c = 0; c < d.NumClasses; c++)
            {
                int? existing = merged is null ? null : d.NamesOf(c).Select(merged.TryClassIndex).FirstOrDefault(i => i is not null);
                if (existing is { } e && !sources[e].Contains(d.Name))
                {
                    map[c] = e;
                    sources[e].Add(d.Name);
                    continue;
                }
                map[c] = names.Count;
                names.Add(d.ClassNames[c]);
                sources.Add([d.Name]);
            }
            relabel.Add(map);
        }
        var train = ImageSet.Concat([.. datasets.Select(d => d.Train)], relabel);
        var test = ImageSet.Concat([.. datasets.Select(d => d.Test)], relabel);
        return new ImageDataset(name, names, train, test) { ClassSources = sources };
    }

    private static ImageDataset Named(List<string> names, string name)
    {
        var empty = new ImageSet([], []);
        return new ImageDataset(name, [.. names], empty, empty);
    }
}
