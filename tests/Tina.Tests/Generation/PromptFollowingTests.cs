using Tina.Generation;
using Tina.PModels;
using Tina.Zoo;

namespace Tina.Tests.Generation;

public class PromptFollowingTests
{
    private static ZooEntry Entry(string[] names, Func<int, int, float> row, string split = "train")
    {
        var layout = ParameterLayout.For(PModelArch.ResNet20, names.Length);
        var v = new float[layout.Count];
        for (int r = 0; r < names.Length; r++)
            for (int k = 0; k < 64; k++) v[r * 64 + k] = row(r, k);
        var task = new ZooTask { Index = 0, Split = split, Classes = Enumerable.Range(0, names.Length).ToArray(), Names = names, Kind = "test", Seed = 0 };
        return new ZooEntry(task, 0, v);
    }

    [Fact]
    public void ClassMeanRowsAverageEachClassOverThePModelsThatHaveIt()
    {
        // "cat" is row 0 of the first p-Model (all 1) and row 1 of the second (all 3): mean 2.
        var a = Entry(["cat", "dog"], (r, _) => r == 0 ? 1f : 10f);
        var b = Entry(["emu", "cat"], (r, _) => r == 1 ? 3f : -5f);
        var means = PromptFollowing.ClassMeanRows(PModelArch.ResNet20, [a, b]);
        Assert.Equal(3, means.Count);
        Assert.All(means["cat"], x => Assert.Equal(2f, x));
        Assert.All(means["dog"], x => Assert.Equal(10f, x));
        Assert.All(means["emu"], x => Assert.Equal(-5f, x));
    }

    [Fact]
    public void ReportCountsRowsOfTheGeneratedTasks()
    {
        var entries = ZooReader.ReadAll(GenerationFixture.ZooDir, out _);
        var training = entries.Where(e => e.Task.Split == "train").ToList();
        var probe = entries.Where(e => e.Task.Split == "ood").ToList();
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Steps = 5 };
        var report = PromptFollowing.Measure(gen, training, probe, options);
        Assert.Equal(probe.Count, report.Tasks);
        Assert.Equal(probe.Sum(e => e.Task.Names.Length), report.Rows);
        Assert.Equal(training.SelectMany(e => e.Task.Names).Distinct().Count(), report.Classes);
        Assert.InRange(report.RowsNearestTheirClass, 0, report.Rows);
        Assert.InRange(report.MeanRowCorrelation, -1, 1);
        Assert.NotNull(report.BodyCorrelation); // CNN-5K has convolutions besides the classifier
        // Same seed, same report (up to float rounding: a run once differed in the 8th digit of a correlation).
        var again = PromptFollowing.Measure(gen, training, probe, options);
        Assert.Equal(report.RowsNearestTheirClass, again.RowsNearestTheirClass);
        Assert.Equal(report.MeanRowCorrelation, again.MeanRowCorrelation, 1e-5);
        Assert.Throws<ArgumentException>(() => PromptFollowing.Measure(gen, training, [], options));
    }
}
