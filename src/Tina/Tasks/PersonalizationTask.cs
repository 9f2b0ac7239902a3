namespace Tina.Tasks;

/// <summary>
/// A personalization task: an ordered list of classes of a dataset. Position i of the list is output i of the
/// task's classifier; the same classes in another order are another task.
/// </summary>
/// <param name="Classes">Dataset labels in prompt order (distinct).</param>
/// <param name="Names">Class names in the same order, as shown to users.</param>
public sealed record PersonalizationTask(int[] Classes, string[] Names)
{
    /// <summary>Number of classes.</summary>
    public int Count => Classes.Length;

    /// <summary>The prompt: class names joined by ", ".</summary>
    public string Prompt => string.Join(", ", Names);

    /// <summary>Position of dataset label <paramref name="label"/> in the task, or −1.</summary>
    public int PositionOf(int label) => Array.IndexOf(Classes, label);

    /// <summary>Builds a task from class names of <paramref name="dataset"/>, validating them.</summary>
    /// <exception cref="InvalidPromptException">Empty, too many, duplicated or unknown classes.</exception>
    public static PersonalizationTask FromNames(Data.ImageDataset dataset, IReadOnlyList<string> names, int maxClasses = 100)
    {
        if (names.Count == 0) throw new InvalidPromptException("The class list is empty. Give comma-separated class names, e.g. \"apple, pear, orange\".");
        if (names.Count > maxClasses) throw new InvalidPromptException($"The class list has {names.Count} classes; at most {maxClasses} are supported.");
        var labels = names.Select(dataset.ClassIndex).ToArray();
        var dup = labels.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => dataset.ClassNames[g.Key]).ToList();
        if (dup.Count > 0) throw new InvalidPromptException($"Duplicate classes in the list: {string.Join(", ", dup)}.");
        return new PersonalizationTask(labels, labels.Select(l => dataset.ClassNames[l]).ToArray());
    }

    /// <inheritdoc />
    public override string ToString() => Prompt;
}
