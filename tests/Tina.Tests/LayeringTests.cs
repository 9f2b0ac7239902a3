using System.Text.RegularExpressions;

namespace Tina.Tests;

/// <summary>The folders of src/Tina follow the pipeline: their imports form no cycle (data → tasks → … → generation).</summary>
public partial class LayeringTests
{
    [Fact]
    public void CoreFoldersImportEachOtherWithoutCycles()
    {
        var root = Path.Combine(TestData.RepoRoot, "src", "Tina");
        var folders = Directory.GetDirectories(root).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj")).Select(d => d!).ToList();
        var uses = folders.ToDictionary(f => f, f => Directory.GetFiles(Path.Combine(root, f), "*.cs", SearchOption.AllDirectories)
            .SelectMany(file => Namespace().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value))
            .Where(n => n != f && folders.Contains(n)).ToHashSet());
        Assert.Contains("Zoo", uses.Keys);
        // Depth-first search for a cycle; report the first one found as a path.
        var state = folders.ToDictionary(f => f, _ => 0);
        var path = new Stack<string>();
        string? Visit(string f)
        {
            state[f] = 1;
            path.Push(f);
            foreach (var g in uses[f].Order())
            {
                if (state[g] == 1) return string.Join(" → ", path.Reverse().SkipWhile(x => x != g).Append(g));
                if (state[g] == 0 && Visit(g) is { } cycle) return cycle;
            }
            path.Pop();
            state[f] = 2;
            return null;
        }
        foreach (var f in folders.Order())
            if (state[f] == 0 && Visit(f) is { } cycle)
                Assert.Fail($"Import cycle between folders of src/Tina: {cycle}");
    }

    [Fact]
    public void TheInferencePackageDoesNotReferenceTorchSharp()
    {
        var project = File.ReadAllText(Path.Combine(TestData.RepoRoot, "src", "Tina.MLNet", "Tina.MLNet.csproj"));
        Assert.DoesNotContain("Include=\"TorchSharp", project);
        Assert.DoesNotContain("ProjectReference", project);
    }

    [GeneratedRegex(@"\bTina\.(\w+)\b")]
    private static partial Regex Namespace();
}
