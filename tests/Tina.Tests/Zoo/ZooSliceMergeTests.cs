using System.Text.Json;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Zoo;

namespace Tina.Tests.Zoo;

/// <summary>
/// <c>tina zoo build --shard I/N</c> in three processes, then <c>tina zoo merge</c>, gives the zoo one build gives, byte
/// for byte; merge refuses slices that do not belong together.
/// </summary>
public class ZooSliceMergeTests
{
    /// <summary>A temp artifacts folder holding an untrained, seeded generic CNN-5K for the fixture dataset.</summary>
    private static string ArtifactsWithGeneric(int seed)
    {
        var artifacts = TestData.TempDir();
        var data = Fixtures.Cifar;
        using var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, seed), new GenericModelCard
            { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = seed, Optimizer = "none" });
        generic.Save(GenericModel.DefaultPath(artifacts, data.Name, PModelArch.Cnn5k));
        return artifacts;
    }

    /// <summary>Asserts that <paramref name="merged"/> is a whole zoo equal to <paramref name="whole"/>: manifest and shard bytes.</summary>
    private static ZooManifest AssertSameZoo(string whole, string merged)
    {
        var a = ZooManifest.Load(whole);
        var b = ZooManifest.Load(merged);
        Assert.Null(b.Slice);
        Assert.Equal(JsonSerializer.Serialize(a), JsonSerializer.Serialize(b));
        foreach (var shard in a.Shards)
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, shard.File)), File.ReadAllBytes(Path.Combine(merged, shard.File)));
        return a;
    }

    [Fact]
    public void ThreeSliceProcessesPlusMergeEqualOneBuild()
    {
        var artifacts = ArtifactsWithGeneric(seed: 22);
        string[] Args(string dir, params string[] extra) =>
            ["zoo", "build", "--arch", "cnn5k", "--tasks", "5", "--ood", "2", "--classes", "2-3", "--epochs", "1", "--group", "2", "--out", dir, .. extra];

        var whole = Path.Combine(artifacts, "whole");
        var (code, output) = TinaProcess.Run(artifacts, Args(whole));
        Assert.True(code == 0, output);
        var slices = Enumerable.Range(0, 3).Select(i => Path.Combine(artifacts, $"slice{i}")).ToArray();
        for (int i = 0; i < 3; i++)
        {
            (code, output) = TinaProcess.Run(artifacts, Args(slices[i], "--shard", $"{i}/3"));
            Assert.True(code == 0, output);
            Assert.Equal($"{i}/3", ZooManifest.Load(slices[i]).Slice);
        }
        // 7 tasks in groups of 2: groups 0 and 3 in slice 0, group 1 in slice 1, group 2 in slice 2.
        Assert.Equal([0, 6], ZooManifest.Load(slices[0]).Shards.Select(s => s.First));
        Assert.Equal([2], ZooManifest.Load(slices[1]).Shards.Select(s => s.First));

        // Missing and doubled slices are refused, naming them; nothing is written.
        var merged = Path.Combine(artifacts, "merged");
        (code, output) = TinaProcess.Run(artifacts, ["zoo", "merge", "--out", merged, slices[0], slices[1]]);
        Assert.Equal(2, code);
        Assert.Contains("2/3", output);
        (code, output) = TinaProcess.Run(artifacts, ["zoo", "merge", "--out", merged, slices[0], slices[1], slices[1]]);
        Assert.Equal(2, code);
        Assert.Contains("given twice", output);
        (code, output) = TinaProcess.Run(artifacts, ["zoo", "merge", "--out", merged, slices[0], slices[1], whole]);
        Assert.Equal(2, code);
        Assert.Contains("not a slice", output);
        Assert.False(File.Exists(Path.Combine(merged, ZooManifest.FileName)));

        (code, output) = TinaProcess.Run(artifacts, ["zoo", "merge", "--out", merged, .. slices]);
        Assert.True(code == 0, output);
        AssertSameZoo(whole, merged);
        Assert.Equal(ZooReader.ReadAll(whole, out _).Count, ZooReader.ReadAll(merged, out _).Count);

        // A slice of another zoo (other seed) or from another generic model is refused.
        var otherSeed = Path.Combine(artifacts, "other-seed");
        (code, output) = TinaProcess.Run(artifacts, Args(otherSeed, "--shard", "2/3", "--seed", "9"));
        Assert.True(code == 0, output);
        (code, output) = TinaProcess.Run(artifacts, ["zoo", "merge", "--out", Path.Combine(artifacts, "m2"), slices[0], slices[1], otherSeed]);
        Assert.Equal(2, code);
        Assert.Contains("not a slice of the same zoo", output);
        var foreign = ZooManifest.Load(slices[2]) with { GenericModelSha256 = "sha256:0000" };
        var foreignDir = Path.Combine(artifacts, "foreign");
        Directory.CreateDirectory(foreignDir);
        foreach (var s in foreign.Shards) File.Copy(Path.Combine(slices[2], s.File), Path.Combine(foreignDir, s.File));
        foreign.Save(foreignDir);
        Assert.Contains("another generic model", Assert.Throws<TinaException>(() => ZooMerge.Merge(Path.Combine(artifacts, "m3"), [slices[0], slices[1], foreignDir])).Message);
        Assert.Throws<TinaException>(() => ZooSlice.Parse("3/3"));
    }

    [Fact]
    public void ProcessesOptionBuildsSlicesInChildProcessesAndMergesToTheSameZoo()
    {
        var artifacts = ArtifactsWithGeneric(seed: 23);
        string[] Args(string dir, params string[] extra) =>
            ["zoo", "build", "--arch", "cnn5k", "--tasks", "4", "--ood", "1", "--classes", "2-3", "--epochs", "1", "--group", "2", "--lr", "0.05", "--out", dir, .. extra];

        // Two processes of 2 threads → 1 thread each; the bits of a p-Model depend on the thread count, so the
        // one-process build it must equal runs with 1 thread.
        var whole = Path.Combine(artifacts, "whole");
        var (code, output) = TinaProcess.RunWithThreads(1, artifacts, Args(whole));
        Assert.True(code == 0, output);
        var parallel = Path.Combine(artifacts, "parallel");
        (code, output) = TinaProcess.RunWithThreads(2, artifacts, Args(parallel, "--processes", "2"));
        Assert.True(code == 0, output);
        Assert.Contains("2 processes × 1 thread", output);
        // The merged zoo is the one-process zoo, byte for byte (the explicit --lr reached the children), and the
        // slices are gone.
        var a = AssertSameZoo(whole, parallel);
        Assert.False(Directory.Exists(Path.Combine(parallel, "slices")));
        // Rerunning on the finished zoo changes nothing; --processes with --shard is refused.
        (code, output) = TinaProcess.Run(artifacts, Args(parallel, "--processes", "2"));
        Assert.True(code == 0, output);
        Assert.Contains("started (or finished) by one process", output);
        Assert.Equal(JsonSerializer.Serialize(a), JsonSerializer.Serialize(ZooManifest.Load(parallel)));
        (code, output) = TinaProcess.Run(artifacts, Args(Path.Combine(artifacts, "x"), "--processes", "2", "--shard", "0/2"));
        Assert.Equal(2, code);
        Assert.Contains("cannot be combined with --shard", output);

        // A slice that fails (its folder holds another zoo) stops the build with its exit code, log and last lines;
        // the other slice is stopped.
        var broken = Path.Combine(artifacts, "broken");
        var otherSlice = Path.Combine(broken, "slices", "1-of-2");
        Directory.CreateDirectory(otherSlice);
        (a with { Seed = 99 }).Save(otherSlice);
        (code, output) = TinaProcess.RunWithThreads(2, artifacts, Args(broken, "--processes", "2"));
        Assert.Equal(2, code);
        Assert.Contains("slice 1/2 failed", output);
        Assert.Contains("other settings", output);
        Assert.Contains("1-of-2.log", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void BenchZooWithProcessesFineTunesTheSameTasksInChildProcesses()
    {
        var artifacts = ArtifactsWithGeneric(seed: 24);
        var (code, output) = TinaProcess.RunWithThreads(2, artifacts, "bench", "zoo", "--arch", "cnn5k", "--tasks", "3", "--groups", "2", "--epochs", "1", "--classes", "2-3", "--processes", "2");
        Assert.True(code == 0, output);
        // The table's rows for group size 2: in this process, then "2 × 2 processes" (wrapped onto two lines).
        var rows = output.Split('\n').Where(l => l.StartsWith("│ 2 ", StringComparison.Ordinal)).Select(l => l.Split('│', StringSplitOptions.TrimEntries)[1..^1]).ToList();
        Assert.True(rows.Count == 2 && rows[1][0].StartsWith("2 × 2", StringComparison.Ordinal), output);
        var (one, two) = (rows[0], rows[1]);
        // Columns: at once, seconds, per minute, % of floor, mean p-Acc, max |Δ p-Acc|, max |Δ weight|. The two
        // processes fine-tuned every task (same mean p-Acc) with one thread each, so weights differ in the last bits only.
        Assert.Equal(one[4], two[4]);
        Assert.Equal("0.00", two[5]);
        Assert.True(double.Parse(two[6], System.Globalization.CultureInfo.InvariantCulture) < 1e-3, two[6]);
        Assert.True(double.Parse(two[2], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Contains("slowest process", output);
    }

    [Fact]
    public void ZooBuildDefaultsToTheRecipeTunedOnTheValidationSplit()
    {
        // CNN-5K: lr 0.05 (its generator scored best on validation zoos) and 30 epochs (the tina zoo tune winner), 8 p-Models
        // at once, no label smoothing, no L2-SP.
        var artifacts = ArtifactsWithGeneric(seed: 25);
        var dir = Path.Combine(artifacts, "zoo");
        var (code, output) = TinaProcess.Run(artifacts, "zoo", "build", "--arch", "cnn5k", "--tasks", "1", "--ood", "0", "--classes", "2", "--out", dir);
        Assert.True(code == 0, output);
        var recipe = ZooManifest.Load(dir).FineTune;
        Assert.Equal((30, 0.05, 8, 0.0, 0.0, 64), (recipe.Epochs, recipe.LearningRate, recipe.ModelsPerGroup, recipe.LabelSmoothing, recipe.L2SP, recipe.BatchSize));
    }
}
