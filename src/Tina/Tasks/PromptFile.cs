using Tina.Data;

namespace Tina.Tasks;

/// <summary>
/// A user's own class lists to score: a text file with one class list per line, in prompt order, its classes separated
/// by commas or semicolons (<see cref="ClassList"/>).
/// Blank lines and lines starting with <c>#</c> are skipped. Every list must name classes of the dataset (their test
/// images are what p-Acc is measured on).
/// </summary>
public static class PromptFile
{
    /// <summary>Reads the tasks of <paramref name="path"/> over <paramref name="dataset"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidPromptException">A line is not a valid class list (the message names the line), or the file has none.</exception>
    public static IReadOnlyList<PersonalizationTask> Read(string path, ImageDataset dataset, int maxClasses)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Write one comma-separated class list per line, e.g. \"apple, pear, orange\".");
        var tasks = new List<PersonalizationTask>();
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            try
            {
                var task = PersonalizationTask.FromPrompt(dataset, line, maxClasses);
                if (task.Count < 2) throw new InvalidPromptException("p-Acc needs at least 2 classes.");
                tasks.Add(task);
            }
            catch (InvalidPromptException e)
            {
                throw new InvalidPromptException($"{Path.GetFileName(path)} line {i + 1}: {e.Message}");
            }
        }
        if (tasks.Count == 0) throw new InvalidPromptException($"{Path.GetFileName(path)} has no class lists (one comma-separated list per line).");
        return tasks;
    }
}
