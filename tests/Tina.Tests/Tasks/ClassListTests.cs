using Tina.MLNet.Errors;
using Tina.Tasks;

namespace Tina.Tests.Tasks;

public class ClassListTests
{
    private static string Error(string prompt, int maxClasses = int.MaxValue) =>
        Assert.Throws<InvalidPromptException>(() => ClassList.Parse(prompt, maxClasses)).Message;

    private static void AssertOneLine(string message) => Assert.DoesNotContain(message, c => char.IsControl(c) || c is '\u2028' or '\u2029');

    [Theory]
    [InlineData("apple, pear, orange")]
    [InlineData("apple;pear;orange")]
    [InlineData("apple\npear\norange")]
    [InlineData("apple\r\npear\r\norange\r\n")]
    [InlineData(" apple ;pear,\n orange ")]
    [InlineData("apple,, pear;;\n\n,orange,")]
    [InlineData("apple\u2028pear\u0085orange")]
    public void SplitsOnCommasSemicolonsAndNewLines(string prompt) =>
        Assert.Equal(["apple", "pear", "orange"], ClassList.Parse(prompt));

    [Fact]
    public void TrimsAndCollapsesWhitespaceInsideNames()
    {
        var list = ClassList.Parse("  sweet \t  pepper ,maple\u00A0\u00A0tree ; aquarium_fish");
        Assert.Equal(["sweet pepper", "maple tree", "aquarium_fish"], list);
        Assert.Equal("sweet pepper, maple tree, aquarium_fish", list.Prompt);
        Assert.Equal(list.Prompt, list.ToString());
        Assert.Equal(3, list.Count);
        Assert.Equal("maple tree", list[1]);
    }

    [Fact]
    public void ListItemsMaySeparateSeveralClasses()
    {
        Assert.Equal(["apple", "pear", "orange"], ClassList.Parse(["apple, pear", "orange"]));
        Assert.Equal(["apple", "pear", "orange"], ClassList.Parse(["apple, pear, orange"]));
        Assert.Equal(["apple", "pear"], ClassList.Parse(["apple", null, " ", "", "pear;"]));
        // A parsed list parses to itself.
        var list = ClassList.Parse("Maple Tree; pear");
        Assert.Equal(list, ClassList.Parse(list));
    }

    [Theory]
    [InlineData("apple, pear, Apple", "class 3, 'Apple', is the same as class 1, 'apple'")]
    [InlineData("APPLE;apple", "class 2, 'apple', is the same as class 1, 'APPLE'")]
    [InlineData("maple tree, pear, maple_tree", "class 3, 'maple_tree', is the same as class 1, 'maple tree'")]
    [InlineData("Maple_Tree\nmaple   TREE", "class 2, 'maple TREE', is the same as class 1, 'Maple_Tree'")]
    public void DuplicatesAreRejectedIgnoringCaseAndUnderscores(string prompt, string expected)
    {
        var message = Error(prompt);
        Assert.StartsWith("Duplicate class: ", message);
        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("apple, pe\u0007ar", "Class 2, 'pe\\u0007ar', contains the control character U+0007")]
    [InlineData("ap\0ple", "Class 1, 'ap\\u0000ple', contains the control character U+0000")]
    [InlineData("apple, pear, \u001b[31mred", "Class 3, '\\u001B[31mred', contains the control character U+001B")]
    [InlineData("apple, pe\u200Bar", "Class 2, 'pe\\u200Bar', contains the invisible formatting character U+200B")]
    [InlineData("apple, \u202Eraep", "Class 2, '\\u202Eraep', contains the invisible formatting character U+202E")]
    public void ControlAndInvisibleCharactersAreRejected(string prompt, string expected)
    {
        var message = Error(prompt);
        Assert.Contains(expected, message);
        AssertOneLine(message);
    }

    [Fact]
    public void UnpairedSurrogatesAreRejected()
    {
        var message = Error("apple, pe\uD800ar");
        Assert.Contains("Class 2, 'pe\\uD800ar', contains an unpaired surrogate", message);
        AssertOneLine(message);
    }

    [Fact]
    public void NamesOfAtMost64CharactersAreAccepted()
    {
        var longest = new string('x', ClassList.MaxNameLength);
        Assert.Equal([longest], ClassList.Parse(longest));
        // 64 characters counted as Unicode characters: an emoji (a surrogate pair) counts once.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F34E", ClassList.MaxNameLength));
        Assert.Equal([emoji], ClassList.Parse(emoji));
        // Collapsed whitespace does not count.
        Assert.Single(ClassList.Parse("  " + new string('y', 30) + "       " + new string('z', 33) + "  "));
    }

    [Fact]
    public void A65CharacterNameIsRejected()
    {
        var name = new string('x', 65);
        var message = Error($"apple, {name}");
        Assert.StartsWith($"Class 2, '{new string('x', 32)}…', is 65 characters long; a class name has at most 64", message);
    }

    [Fact]
    public void A120KilobyteNameIsRejectedWithAShortMessage()
    {
        var message = Error(new string('a', 120_000));
        Assert.Contains("is 120,000 characters long", message);
        Assert.True(message.Length < 200, message);
        // A long name that is bad for another reason is shown cut, with its length.
        var control = Error("a, " + new string('b', 50) + "\u0007");
        Assert.Contains($"'{new string('b', 32)}…' (51 characters)", control);
    }

    [Fact]
    public void MoreThanTheMaximumIsRejected()
    {
        Assert.Equal(3, ClassList.Parse("a, b, c", maxClasses: 3).Count);
        var message = Error("a, b, c, d, e", maxClasses: 3);
        Assert.Equal("The class list has 5 classes; at most 3 are supported (class 4 is 'd').", message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassList.Parse("a", maxClasses: 0));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" , ;\n\r\n ,")]
    [InlineData(null)]
    public void AnEmptyListIsRejected(string? prompt)
    {
        var message = Assert.Throws<InvalidPromptException>(() => ClassList.Parse(prompt)).Message;
        Assert.StartsWith("The class list is empty.", message);
        Assert.Contains("commas, semicolons or new lines", message);
        Assert.Throws<InvalidPromptException>(() => ClassList.Parse(Array.Empty<string>()));
        Assert.Throws<InvalidPromptException>(() => ClassList.Parse((IEnumerable<string?>?)null));
    }

    [Fact]
    public void KeysCompareIgnoringCaseUnderscoresAndWhitespace()
    {
        Assert.Equal("maple tree", ClassList.Key(" Maple__Tree "));
        Assert.True(ClassList.SameClass("maple tree", "MAPLE_TREE"));
        Assert.True(ClassList.SameClass("Maple Tree", "maple  tree"));
        Assert.False(ClassList.SameClass("maple tree", "maple"));
        Assert.False(ClassList.SameClass("maple-tree", "maple tree"));
    }

    [Fact]
    public void ShowKeepsMessagesOnOnePrintableLine()
    {
        Assert.Equal("'apple'", ClassList.Show("apple"));
        Assert.Equal("'a\\nb\\r\\tc'", ClassList.Show("a\nb\r\tc"));
        Assert.Equal("'\\u2028'", ClassList.Show("\u2028"));
        Assert.Equal("'\U0001F34E'", ClassList.Show("\U0001F34E"));
        Assert.Equal($"'{new string('q', 32)}…' (40 characters)", ClassList.Show(new string('q', 40)));
    }

    [Fact]
    public void AccentsTypedEitherWayAreOneNameInNormalizationFormC()
    {
        const string composed = "caf\u00e9", decomposed = "cafe\u0301";
        Assert.NotEqual(composed, decomposed);
        var list = ClassList.Parse($"{decomposed}, tea");
        Assert.Equal(composed, list[0]); // returned composed
        Assert.True(ClassList.SameClass(composed, decomposed));
        var e = Assert.Throws<InvalidPromptException>(() => ClassList.Parse($"{composed}, {decomposed}"));
        Assert.Contains("Duplicate class: class 2", e.Message);
        // A dataset resolves either spelling.
        var set = new Tina.Data.ImageSet(new byte[2 * Tina.Data.ImageSet.ImageBytes], [0, 1]);
        var data = new Tina.Data.ImageDataset("tiny", [composed, "tea"], set, set);
        Assert.Equal(0, data.ClassIndex(decomposed));
    }
}
