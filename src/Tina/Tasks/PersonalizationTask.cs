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

    /// <summary>
    /// Builds a task from class names of <paramref name="dataset"/>. The names are parsed by
    /// <see cref="ClassList.Parse(IEnumerable{string?}, int)"/> (so an item "apple; pear" is two classes) and resolved
    /// by <see cref="Data.ImageDataset.ClassIndex"/>; the task's names are the names as given (parsed), which become the
    /// labels of a classifier made for it, whatever the dataset calls the classes.
    /// </summary>
    /// <param name="dataset">The dataset whose classes are named.</param>
    /// <param name="names">Class names in output order.</param>
    /// <param name="maxClasses">Most classes accepted.</param>
    /// <exception cref="InvalidPromptException">Empty, too many, invalid, duplicated or unknown classes; the message names the class.</exception>
    public static PersonalizationTask FromNames(Data.ImageDataset dataset, IReadOnlyList<string> names, int maxClasses = 100)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var list = ClassList.Parse(names, maxClasses);
        var labels = list.Select(dataset.ClassIndex).ToArray();
        // Distinct names can still be one class through a dataset's synonyms ("maple" and "maple tree").
        for (int i = 1; i < labels.Length; i++)
        {
            int first = Array.IndexOf(labels, labels[i], 0, i);
            if (first < 0) continue;
            var name = dataset.ClassNames[labels[i]];
            var which = ClassList.SameClass(name, list[first]) ? "" : $" ({name})";
            throw new InvalidPromptException($"Duplicate class: class {i + 1}, {ClassList.Show(list[i])}, is the same class of {dataset.Name} as class {first + 1}, {ClassList.Show(list[first])}{which}.");
        }
        // The labels are the names as typed (parsed: whitespace collapsed, NFC), not the dataset's spelling of them:
        // a classifier answers with the user's words ("maple tree" even where the archive says "maple").
        return new PersonalizationTask(labels, [.. list]);
    }

    /// <summary>
    /// Builds a task from a prompt such as <c>"apple, pear; orange"</c>: <see cref="ClassList.Parse(string?, int)"/>,
    /// then <see cref="FromNames"/>.
    /// </summary>
    /// <param name="dataset">The dataset whose classes are named.</param>
    /// <param name="prompt">Class names separated by commas, semicolons or line breaks, in output order.</param>
    /// <param name="maxClasses">Most classes accepted.</param>
    /// <exception cref="InvalidPromptException">Empty, too many, invalid, duplicated or unknown classes; the message names the class.</exception>
    public static PersonalizationTask FromPrompt(Data.ImageDataset dataset, string prompt, int maxClasses = 100) =>
        FromNames(dataset, ClassList.Parse(prompt, maxClasses), maxClasses);

    /// <inheritdoc />
    public override string ToString() => Prompt;
}
