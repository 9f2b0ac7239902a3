using Tina.Data;

namespace Tina.Tasks;

/// <summary>
/// Draws random ordered tasks of <c>k</c> distinct classes from a dataset, deterministically from a seed; no two
/// tasks have the same class set.
/// </summary>
public static class RandomTaskSampler
{
    /// <summary>Draws <paramref name="count"/> tasks of <paramref name="classesPerTask"/> classes.</summary>
    public static IReadOnlyList<PersonalizationTask> Sample(ImageDataset dataset, int count, int classesPerTask = 10, int seed = 0)
    {
        if (classesPerTask < 1 || classesPerTask > dataset.NumClasses)
            throw new TinaException($"Tasks need between 1 and {dataset.NumClasses} classes; got {classesPerTask}.");
        var rng = new Random(seed);
        var seen = new HashSet<string>();
        var tasks = new List<PersonalizationTask>();
        var all = Enumerable.Range(0, dataset.NumClasses).ToArray();
        int attempts = 0;
        while (tasks.Count < count)
        {
            if (++attempts > count * 100) throw new TinaException($"Could not draw {count} distinct tasks of {classesPerTask} classes from {dataset.NumClasses}.");
            rng.Shuffle(all);
            var classes = all[..classesPerTask];
            if (!seen.Add(string.Join(",", classes.Order()))) continue;
            tasks.Add(new PersonalizationTask(classes.ToArray(), classes.Select(c => dataset.ClassNames[c]).ToArray()));
        }
        return tasks;
    }
}
