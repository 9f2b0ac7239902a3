using System.Text;
using Tina.Data;
using Tina.Tasks;

namespace Tina.Generation;

/// <summary>
/// One class of a prompt: its label (the name the p-Model's output carries) and the text the generator is conditioned
/// on — the name itself, or a natural-language description of the class ("fruit with red or yellow or green skin").
/// </summary>
/// <param name="Label">The class label; a class name (<see cref="ClassList"/> rules: no separators, at most <see cref="ClassList.MaxNameLength"/> characters).</param>
/// <param name="Text">The conditioning text: any printable text of at most <see cref="MaxTextLength"/> characters (commas allowed).</param>
public sealed record ClassPrompt(string Label, string Text)
{
    /// <summary>
    /// A ready conditioning vector (e.g. from image prompts, <see cref="ImagePrompts.ImagePromptProjector"/>) used instead
    /// of encoding <see cref="Text"/>; it must have the generator's text dimension. Null: encode the text.
    /// </summary>
    public float[]? Embedding { get; init; }

    /// <summary>Longest conditioning text accepted, in characters.</summary>
    public const int MaxTextLength = 500;

    /// <summary>A class conditioned on its own name.</summary>
    public static ClassPrompt OfName(string name) => new(name, name);

    /// <summary>Each class of <paramref name="names"/> conditioned on its own name.</summary>
    public static IReadOnlyList<ClassPrompt> OfNames(IEnumerable<string> names) =>
        names is ClassList parsed ? new ParsedNames(parsed) : names.Select(OfName).ToList();

    /// <summary>The classes of a parsed <see cref="ClassList"/>, each conditioned on its name: <see cref="Check"/> does not parse their labels again.</summary>
    private sealed class ParsedNames(ClassList names) : IReadOnlyList<ClassPrompt>
    {
        private readonly ClassPrompt[] _classes = names.Select(OfName).ToArray();

        public ClassList Names { get; } = names;

        public int Count => _classes.Length;

        public ClassPrompt this[int index] => _classes[index];

        public IEnumerator<ClassPrompt> GetEnumerator() => ((IEnumerable<ClassPrompt>)_classes).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>
    /// Checks a prompt of classes: 1 to <paramref name="maxClasses"/> classes, labels valid and distinct class names,
    /// texts non-empty printable text of at most <see cref="MaxTextLength"/> characters; returns the cleaned classes
    /// (labels and texts with whitespace collapsed).
    /// </summary>
    /// <exception cref="InvalidPromptException">The prompt breaks a rule; the message names the class.</exception>
    public static ClassPrompt[] Check(IReadOnlyList<ClassPrompt> classes, int maxClasses)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Any(c => c is null || c.Label is null || c.Text is null)) throw new InvalidPromptException("A class of the prompt has no label or no text.");
        var labels = ClassList.Parse(classes is ParsedNames parsed ? parsed.Names : classes.Select(c => c.Label), maxClasses);
        if (labels.Count != classes.Count)
            throw new InvalidPromptException($"Each class needs one label without commas, semicolons or line breaks; the {classes.Count} labels read as {labels.Count} classes.");
        var result = new ClassPrompt[classes.Count];
        for (int i = 0; i < classes.Count; i++)
        {
            var text = ClassName.CollapseWhitespace(classes[i].Text.AsSpan());
            if (text.Length == 0) throw new InvalidPromptException($"Class {i + 1}, {ClassList.Show(labels[i])}, has an empty text.");
            if (text.Length > MaxTextLength) throw new InvalidPromptException($"The text of class {i + 1}, {ClassList.Show(labels[i])}, is {text.Length} characters long; at most {MaxTextLength} are accepted.");
            foreach (var rune in text.EnumerateRunes())
                if (Rune.IsControl(rune) || ClassName.Invisible(rune))
                    throw new InvalidPromptException($"The text of class {i + 1}, {ClassList.Show(labels[i])}, contains the character U+{rune.Value:X4}; texts are printable text.");
            if (classes[i].Embedding is { } e && (e.Length == 0 || e.Any(x => !float.IsFinite(x))))
                throw new InvalidPromptException($"The conditioning vector of class {i + 1}, {ClassList.Show(labels[i])}, is empty or not finite.");
            result[i] = classes[i] with { Label = labels[i], Text = text };
        }
        return result;
    }
}
