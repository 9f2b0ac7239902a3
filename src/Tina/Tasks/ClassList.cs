using System.Collections;
using System.Globalization;
using System.Text;
using Tina.Data;

namespace Tina.Tasks;

/// <summary>
/// The ordered class names of a prompt, parsed and checked the same way wherever a prompt enters Tina: the CLI's
/// <c>--classes</c> and <c>--prompt</c> options, <see cref="PersonalizationTask.FromNames"/>, the generator's
/// <c>Generate</c> methods and the ML.NET estimator's options.
/// </summary>
/// <remarks>
/// <para>Parsing: the text is split on commas, semicolons and line breaks (<see cref="IsSeparator"/>); in each item
/// every run of whitespace (tabs included) becomes one space and the ends are trimmed; items left empty are skipped
/// ("apple,, pear;" is two classes).</para>
/// <para>Rejected, each with an <see cref="InvalidPromptException"/> whose one-line message names the item by its
/// position and a shortened, printable form of it: a name with a control or invisible formatting character, a name
/// longer than <see cref="MaxNameLength"/> characters, two names that are the same class (compared with
/// <see cref="Key"/>: ignoring case and Unicode composition, with '_' the same as a space), more classes than the caller
/// allows, and a list with no class at all. Names are returned in Unicode normalization form C.</para>
/// <para>A parsed list parses to itself, so passing one to another entry point changes nothing.</para>
/// </remarks>
public sealed class ClassList : IReadOnlyList<string>
{
    /// <summary>The longest accepted class name, in characters (Unicode scalar values), after whitespace is collapsed.</summary>
    public const int MaxNameLength = 64;

    private readonly string[] _names;

    private ClassList(string[] names) => _names = names;

    /// <summary>Number of classes (at least one).</summary>
    public int Count => _names.Length;

    /// <summary>The class name at <paramref name="index"/> (0-based); output <paramref name="index"/> of the classifier.</summary>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is not in [0, <see cref="Count"/>).</exception>
    public string this[int index] => _names[index];

    /// <summary>The names joined by ", " — the canonical prompt text, e.g. <c>apple, pear, orange</c>.</summary>
    public string Prompt => string.Join(", ", _names);

    /// <summary>Whether <paramref name="c"/> separates two class names: ',', ';' or a line break (LF, CR, NEL, U+2028, U+2029).</summary>
    public static bool IsSeparator(char c) => c is ',' or ';' or '\n' or '\r' or '\u0085' or '\u2028' or '\u2029';

    /// <summary>
    /// Parses a prompt such as <c>"apple, pear; orange"</c> or one class per line into its class names, in order.
    /// </summary>
    /// <param name="prompt">The prompt text; null is treated as empty.</param>
    /// <param name="maxClasses">Most classes accepted (e.g. the generator's K); no limit by default.</param>
    /// <exception cref="InvalidPromptException">The list is empty, too long, or a name is invalid or repeated; the message names it.</exception>
    public static ClassList Parse(string? prompt, int maxClasses = int.MaxValue) => Parse([prompt], maxClasses);

    /// <summary>
    /// Parses a list of class names in order, with the same rules as <see cref="Parse(string?, int)"/>: each item may
    /// itself hold several names separated by commas, semicolons or line breaks (<c>["apple, pear", "orange"]</c> is
    /// three classes); null and blank items are skipped. A list parsed already (a <see cref="ClassList"/>) is not parsed again: only its length is checked.
    /// </summary>
    /// <param name="items">The names (or prompt fragments); null is treated as empty.</param>
    /// <param name="maxClasses">Most classes accepted (e.g. the generator's K); no limit by default.</param>
    /// <exception cref="InvalidPromptException">The list is empty, too long, or a name is invalid or repeated; the message names it.</exception>
    public static ClassList Parse(IEnumerable<string?>? items, int maxClasses = int.MaxValue)
    {
        if (maxClasses < 1) throw new ArgumentOutOfRangeException(nameof(maxClasses), maxClasses, "At least one class must be allowed.");
        if (items is ClassList parsed) return parsed.Count <= maxClasses ? parsed : throw TooMany(parsed._names, maxClasses);
        var names = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            if (item is null) continue;
            int start = 0;
            for (int i = 0; i <= item.Length; i++)
            {
                if (i < item.Length && !IsSeparator(item[i])) continue;
                var name = ClassName.CollapseWhitespace(item.AsSpan(start, i - start));
                start = i + 1;
                if (name.Length == 0) continue;
                int position = names.Count + 1;
                Check(name, position);
                name = ClassName.Normalized(name); // NFC: one spelling per name, whatever the keyboard composed
                var key = Key(name);
                if (seen.TryGetValue(key, out var first))
                    throw new InvalidPromptException($"Duplicate class: class {position}, {Show(name)}, is the same as class {first}, {Show(names[first - 1])} " +
                        "(names are compared ignoring case and how accents are encoded, and '_' is the same as a space).");
                seen.Add(key, position);
                names.Add(name);
            }
        }
        if (names.Count == 0)
            throw new InvalidPromptException("The class list is empty. Give class names separated by commas, semicolons or new lines, e.g. \"apple, pear, orange\".");
        if (names.Count > maxClasses) throw TooMany(names, maxClasses);
        return new ClassList([.. names]);
    }

    private static InvalidPromptException TooMany(IReadOnlyList<string> names, int maxClasses) =>
        new($"The class list has {names.Count} classes; at most {maxClasses} are supported (class {maxClasses + 1} is {Show(names[maxClasses])}).");

    /// <summary>
    /// The form in which two class names are compared: whitespace collapsed and trimmed, '_' read as a space, lower
    /// case (invariant culture). "Maple  Tree", "maple_tree" and "maple tree" all have the key "maple tree".
    /// </summary>
    /// <param name="name">A class name.</param>
    public static string Key(string name)
    {
        return ClassName.Key(name);
    }

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> name the same class (equal <see cref="Key"/>s).</summary>
    /// <param name="a">A class name.</param>
    /// <param name="b">Another class name.</param>
    public static bool SameClass(string a, string b) => Key(a) == Key(b);

    /// <summary>
    /// A name as error messages show it: in single quotes, control and other invisible characters written as
    /// <c>\uXXXX</c> (tab and line breaks as <c>\t</c>, <c>\n</c>, <c>\r</c>) so the message stays one printable
    /// line, and names longer than 32 characters cut, with their length added.
    /// </summary>
    /// <param name="name">Any text.</param>
    public static string Show(string name) => ClassName.Show(name, withLength: true);


    /// <summary>An enumerator over the names, in order.</summary>
    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_names).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The prompt text (<see cref="Prompt"/>).</summary>
    public override string ToString() => Prompt;

    /// <summary>Rejects control and invisible formatting characters, lone surrogates and over-long names.</summary>
    private static void Check(string name, int position)
    {
        for (int i = 0; i < name.Length; i++)
        {
            Rune rune;
            if (char.IsSurrogatePair(name, i)) rune = new Rune(name[i], name[++i]);
            else if (char.IsSurrogate(name[i]))
                throw new InvalidPromptException($"Class {position}, {Show(name)}, contains an unpaired surrogate (U+{(int)name[i]:X4}); the text is not valid Unicode.");
            else rune = new Rune(name[i]);
            if (Rune.IsControl(rune))
                throw new InvalidPromptException($"Class {position}, {Show(name)}, contains the control character U+{rune.Value:X4}; class names are printable text.");
            if (ClassName.Invisible(rune))
                throw new InvalidPromptException($"Class {position}, {Show(name)}, contains the invisible formatting character U+{rune.Value:X4}; class names are printable text.");
        }
        int length = ClassName.Length(name);
        if (length > MaxNameLength)
            throw new InvalidPromptException($"Class {position}, {ClassName.Show(name, withLength: false)}, is {length.ToString("N0", CultureInfo.InvariantCulture)} characters long; " +
                $"a class name has at most {MaxNameLength} (separate classes with commas, semicolons or new lines).");
    }



}
