using Tina.Tasks;

namespace Tina.Generation;

/// <summary>
/// A prompt written one class per line, each line a class name, a free-text description, or <c>name: description</c>:
/// <code>
/// apple
/// pear: a sweet, juicy fruit with a thin skin and a rounded base tapering to a stalk
/// a round, juicy citrus fruit with a tough, bright orange rind
/// </code>
/// A line without a colon that is a valid class name (no commas or semicolons, at most
/// <see cref="ClassList.MaxNameLength"/> characters) is its own label and text; any other line without a colon is a
/// description whose label is <c>classN</c> (N = its class number). Blank lines and lines starting with <c>#</c> are skipped.
/// </summary>
public static class ClassPromptFile
{
    /// <summary>Reads the prompt in <paramref name="path"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidPromptException">A line is invalid (the message names the line), or the file has no class.</exception>
    public static IReadOnlyList<ClassPrompt> Read(string path, int maxClasses = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Write one class per line: a name, a description, or 'name: description'.");
        return Parse(File.ReadAllLines(path), maxClasses, path);
    }

    /// <summary>Parses prompt lines (see <see cref="ClassPromptFile"/>); <paramref name="source"/> names them in errors.</summary>
    /// <exception cref="InvalidPromptException">A line is invalid (the message names the line), or there is no class.</exception>
    public static IReadOnlyList<ClassPrompt> Parse(IReadOnlyList<string> lines, int maxClasses = int.MaxValue, string source = "the prompt")
    {
        ArgumentNullException.ThrowIfNull(lines);
        var classes = new List<(ClassPrompt Class, int Line)>();
        for (int i = 0; i < lines.Count; i++)
        {
            var line = (lines[i] ?? "").Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int colon = line.IndexOf(':');
            ClassPrompt c;
            if (colon >= 0)
            {
                var label = line[..colon].Trim();
                var text = line[(colon + 1)..].Trim();
                if (label.Length == 0) throw new InvalidPromptException($"Line {i + 1} of {source}: nothing before ':'; write 'name: description'.");
                if (text.Length == 0) throw new InvalidPromptException($"Line {i + 1} of {source}: nothing after '{label}:'; write 'name: description', or only the name.");
                c = new ClassPrompt(label, text);
            }
            else c = IsName(line) ? ClassPrompt.OfName(line) : new ClassPrompt($"class{classes.Count + 1}", line);
            try { ClassPrompt.Check([c], 1); }
            catch (InvalidPromptException e) { throw new InvalidPromptException($"Line {i + 1} of {source}: {e.Message}"); }
            classes.Add((c, i + 1));
        }
        if (classes.Count == 0) throw new InvalidPromptException($"{source} has no class; write one class per line: a name, a description, or 'name: description'.");
        try { return ClassPrompt.Check(classes.Select(x => x.Class).ToList(), maxClasses); }
        catch (InvalidPromptException e) { throw new InvalidPromptException($"{source}: {e.Message}"); }
    }

    private static bool IsName(string line) =>
        line.Length <= ClassList.MaxNameLength && !line.Any(ClassList.IsSeparator);
}
