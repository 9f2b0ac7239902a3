using System.Globalization;
using System.Text;

namespace Tina.Data;

/// <summary>
/// How class names are compared and shown, wherever they come from (a dataset's label list, a prompt): the comparison
/// key (whitespace collapsed, '_' read as a space, invariant lower case) and the one-line form used in error messages.
/// The prompt parser (<see cref="Tasks.ClassList"/>) builds on it; datasets use it to resolve names.
/// </summary>
public static class ClassName
{
    private const int ShownLength = 32;

    /// <summary>
    /// The form in which two class names are compared: Unicode NFC (so "café" typed as one character or as "e" plus a
    /// combining accent is one name), whitespace collapsed and trimmed, '_' read as a space, lower case (invariant
    /// culture). "Maple  Tree", "maple_tree" and "maple tree" all have the key "maple tree".
    /// </summary>
    /// <param name="name">A class name.</param>
    public static string Key(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return CollapseWhitespace(Normalized(name).Replace('_', ' ')).ToLowerInvariant();
    }

    /// <summary><paramref name="name"/> in Unicode normalization form C; a text that is not valid Unicode (a lone surrogate) as it is.</summary>
    internal static string Normalized(string name)
    {
        try
        {
            return name.IsNormalized(NormalizationForm.FormC) ? name : name.Normalize(NormalizationForm.FormC);
        }
        catch (ArgumentException)
        {
            return name; // invalid UTF-16: the prompt parser reports it by position
        }
    }

    /// <summary>
    /// A name as error messages show it: in single quotes, invisible characters escaped, long names cut (see
    /// <see cref="Tasks.ClassList.Show"/>).
    /// </summary>
    /// <param name="name">A class name.</param>
    public static string Show(string name) => Show(name, withLength: true);

    internal static string Show(string name, bool withLength)
    {
        ArgumentNullException.ThrowIfNull(name);
        var sb = new StringBuilder("'");
        int shown = 0;
        for (int i = 0; i < name.Length && shown < ShownLength; i++, shown++)
        {
            char c = name[i];
            if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (c == '\t') sb.Append("\\t");
            else if (char.IsSurrogatePair(name, i))
            {
                var rune = new Rune(c, name[i + 1]);
                if (Invisible(rune)) sb.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:X8}");
                else sb.Append(c).Append(name[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(c) || Invisible(new Rune(c)) || char.GetUnicodeCategory(c) is UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else sb.Append(c);
        }
        int total = Length(name);
        sb.Append(total <= shown ? "'" : withLength ? $"…' ({total.ToString("N0", CultureInfo.InvariantCulture)} characters)" : "…'");
        return sb.ToString();
    }

    /// <summary>Control characters and formatting characters (zero-width space, bidi overrides, byte-order mark …).</summary>
    internal static bool Invisible(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format;

    /// <summary>Length in Unicode scalar values (a surrogate pair counts once, a lone surrogate once).</summary>
    internal static int Length(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++, n++)
            if (char.IsSurrogatePair(s, i)) i++;
        return n;
    }

    /// <summary>Trims and turns every run of whitespace into one space.</summary>
    internal static string CollapseWhitespace(ReadOnlySpan<char> text)
    {
        var sb = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c)) { pendingSpace = sb.Length > 0; continue; }
            if (pendingSpace) sb.Append(' ');
            pendingSpace = false;
            sb.Append(c);
        }
        return sb.ToString();
    }
}
