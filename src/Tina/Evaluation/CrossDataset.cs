using Tina.Data;
using Tina.Tasks;

namespace Tina.Evaluation;

/// <summary>
/// Photos from another source: the classes two datasets share by name (compared as <see cref="ImageDataset.ClassIndex"/>
/// compares names, with each dataset's synonyms, e.g. Caltech-101's "Motorbikes" is CIFAR-100's "motorcycle"), and the
/// other dataset's images of them labelled with the first dataset's classes. Every method trained on the first dataset
/// (generic model, classifier selection, TAPER-Mixer, Tina) is then scored with <see cref="PAcc"/> on images it has never
/// seen from a source it has never seen.
/// </summary>
public static class CrossDataset
{
    /// <summary>The shared classes: each as (label in <paramref name="source"/>, label in <paramref name="target"/>), in the source's label order.</summary>
    public static IReadOnlyList<(int Source, int Target)> SharedClasses(ImageDataset source, ImageDataset target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var pairs = new List<(int, int)>();
        for (int t = 0; t < target.NumClasses; t++)
            if (target.NamesOf(t).Select(source.TryClassIndex).FirstOrDefault(i => i is not null) is { } s && pairs.All(p => p.Item1 != s))
                pairs.Add((s, t));
        return pairs.OrderBy(p => p.Item1).ToList();
    }

    /// <summary>
    /// All images of <paramref name="target"/> (both its splits: none of them trained anything of the source's) whose
    /// class <paramref name="source"/> also has, labelled with the source's labels.
    /// </summary>
    /// <exception cref="TinaException">The datasets share fewer than two classes.</exception>
    public static ImageSet Images(ImageDataset source, ImageDataset target)
    {
        var shared = SharedClasses(source, target);
        if (shared.Count < 2)
            throw new TinaException($"{source.Name} and {target.Name} share {shared.Count} class name{(shared.Count == 1 ? "" : "s")}; a cross-dataset evaluation needs at least 2.");
        var map = shared.ToDictionary(p => p.Target, p => p.Source);
        var pixels = new List<byte>();
        var labels = new List<int>();
        foreach (var set in new[] { target.Train, target.Test })
            for (int i = 0; i < set.Count; i++)
                if (map.TryGetValue(set.Labels[i], out var label))
                {
                    pixels.AddRange(set.Image(i));
                    labels.Add(label);
                }
        return new ImageSet(pixels.ToArray(), labels.ToArray());
    }

    /// <summary>
    /// <paramref name="count"/> random ordered lists of the shared classes, their lengths drawn evenly from
    /// <paramref name="minClasses"/> to <paramref name="maxClasses"/> (capped at the number of shared classes); named
    /// with the source's class names. Seeded; no two lists have the same class set.
    /// </summary>
    /// <exception cref="TinaException">The range is empty after the cap, or fewer distinct lists exist than asked for.</exception>
    public static IReadOnlyList<PersonalizationTask> Tasks(ImageDataset source, IReadOnlyList<(int Source, int Target)> shared, int count, int minClasses, int maxClasses, int seed)
    {
        int max = Math.Min(maxClasses, shared.Count);
        if (minClasses < 2 || minClasses > max)
            throw new TinaException($"Lists of {minClasses}–{maxClasses} classes cannot be drawn from the {shared.Count} classes {source.Name} shares with the other dataset.");
        var rng = new Random(seed);
        var labels = shared.Select(p => p.Source).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var tasks = new List<PersonalizationTask>();
        for (int attempts = 0; tasks.Count < count; attempts++)
        {
            if (attempts > count * 200) throw new TinaException($"Could not draw {count} distinct lists of {minClasses}–{max} of the {shared.Count} shared classes.");
            int k = minClasses + rng.Next(max - minClasses + 1);
            rng.Shuffle(labels);
            var classes = labels[..k].ToArray();
            if (!seen.Add(string.Join(",", classes.Order()))) continue;
            tasks.Add(new PersonalizationTask(classes, classes.Select(c => source.ClassNames[c]).ToArray()));
        }
        return tasks;
    }
}
