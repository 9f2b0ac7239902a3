namespace Tina.Text;

/// <summary>
/// A file of conditioning texts per class: UTF-8, one <c>class&lt;TAB&gt;text</c> line per class (plurals, synonyms, a
/// description, or common words for a name the text encoder does not know, e.g. <c>gerenuk&lt;TAB&gt;long-necked
/// antelope</c>); blank lines and lines starting with <c>#</c> are skipped. Class names match ignoring case and '_'.
/// </summary>
public static class ClassTextsFile
{
    /// <summary>Reads <paramref name="path"/> into class name → text.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidPromptException">A line is not <c>class&lt;TAB&gt;text</c>, or a class is given twice (the message names the line).</exception>
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Write one 'class<TAB>text' line per class.");
        var result = new Dictionary<string, string>(ClassDescriptions.NameComparer);
        var lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0 || lines[i].TrimStart().StartsWith('#')) continue;
            var parts = lines[i].Split('\t');
            if (parts.Length != 2 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
                throw new InvalidPromptException($"Line {i + 1} of {path}: expected 'class<TAB>text'.");
            if (!result.TryAdd(parts[0].Trim(), parts[1].Trim())) throw new InvalidPromptException($"Line {i + 1} of {path}: the class '{parts[0].Trim()}' is given twice.");
        }
        return result;
    }
}
