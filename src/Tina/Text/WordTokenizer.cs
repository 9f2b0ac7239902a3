using System.Text;

namespace Tina.Text;

/// <summary>
/// Splits a class name or sentence into the lower-case words looked up in a word-vector vocabulary: every run of
/// Unicode letters or digits is a word, everything else separates words, so <c>"aquarium fish"</c>,
/// <c>"maple_tree"</c> and <c>"Pickup-Truck"</c> all split as expected.
/// </summary>
public static class WordTokenizer
{
    /// <summary>The words of <paramref name="text"/>, lower-cased (invariant culture), in order, repeats kept.</summary>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune))
            {
                current.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else if (current.Length > 0)
            {
                words.Add(current.ToString());
                current.Clear();
            }
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }
}
