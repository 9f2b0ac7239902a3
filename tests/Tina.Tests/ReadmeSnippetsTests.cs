using System.Text.RegularExpressions;

namespace Tina.Tests;

/// <summary>The README's C# blocks are compiled: each must appear, line for line, in samples/Tina.Samples.Readme/Snippets.cs.</summary>
public partial class ReadmeSnippetsTests
{
    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsInTheCompiledSnippets()
    {
        var readme = File.ReadAllText(Path.Combine(TestData.RepoRoot, "README.md"));
        var snippets = File.ReadAllLines(Path.Combine(TestData.RepoRoot, "samples", "Tina.Samples.Readme", "Snippets.cs")).Select(l => l.Trim()).ToArray();
        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= 4, $"found {blocks.Count} C# blocks in README.md");
        var code = snippets.Where(l => l.Length > 0).ToArray();
        foreach (var block in blocks)
        {
            var lines = block.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            bool found = Enumerable.Range(0, Math.Max(0, code.Length - lines.Length + 1)).Any(start => lines.AsSpan().SequenceEqual(code.AsSpan(start, lines.Length)));
            Assert.True(found, $"The README block starting '{lines[0]}' ({lines.Length} lines) is not in Snippets.cs line for line; update both together.");
        }
    }

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
