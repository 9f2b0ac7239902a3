namespace Tina.Tests.Cli;

/// <summary>
/// The charts, drawn in the <c>tina</c> process (ScottPlot 5 shares SkiaSharp 3 with ML.NET 6; see
/// <see cref="MLNet.PixelsBesideChartsTests"/>): <c>tina plot loss|pacc</c> and the loss chart of <c>tina train</c>.
/// </summary>
public class PlotToolTests
{
    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.ArtifactsDir, args);

    private static bool IsPng(string path) => File.ReadAllBytes(path).Take(8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });

    /// <summary>Exit code 2 with one "error: …" line that contains <paramref name="expected"/>.</summary>
    private static void AssertUserError((int Code, string Output) result, string expected)
    {
        Assert.True(result.Code == 2, result.Output);
        var line = Assert.Single(result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void DrawsTheLossCurveAndThePAccBarsAsPng()
    {
        var dir = TestData.TempDir();
        var csv = Path.Combine(dir, "loss.csv");
        File.WriteAllText(csv, "epoch,loss\n1,0.2\n2,0.1\n3,0.05\n");
        var loss = Path.Combine(dir, "loss.png");
        var (code, output) = Tina("plot", "loss", "--csv", csv, "--out", loss);
        Assert.True(code == 0, output);
        Assert.True(IsPng(loss));
        Assert.Contains(loss, output.Replace("\n", ""));

        var json = Path.Combine(dir, "eval.json");
        File.WriteAllText(json, """{"arch":"cnn5k","id":{"tasks":3,"methods":{"generic":{"pAcc":28.1,"std":5.0},"tina":{"pAcc":64.0,"std":6.0}}},"ood":{"tasks":3,"methods":{"generic":{"pAcc":27.0,"std":5.5}}}}""");
        var bars = Path.Combine(dir, "bars.png");
        (code, output) = Tina("plot", "pacc", "--json", json, "--out", bars);
        Assert.True(code == 0, output);
        Assert.True(IsPng(bars));

        File.WriteAllText(json, """{"arch":"cnn5k"}""");
        AssertUserError(Tina("plot", "pacc", "--json", json, "--out", bars), "No groups of results");

        // A zoo with held-out classes reports one group per unseen share; two files get their own labels.
        var unseen = Path.Combine(dir, "unseen.json");
        File.WriteAllText(unseen, """{"arch":"resnet20","split":"test","id":{"tasks":3,"methods":{"tina":{"pAcc":70,"std":5}}},"ood-unseen-0":{"tasks":2,"methods":{"tina":{"pAcc":69,"std":5}}},"ood-unseen-100":{"tasks":2,"methods":{"tina":{"pAcc":50,"std":5}}}}""");
        (code, output) = Tina("plot", "pacc", "--json", unseen, unseen, "--labels", "a", "b", "--title", "Unseen classes", "--out", bars);
        Assert.True(code == 0, output);
        AssertUserError(Tina("plot", "pacc", "--json", unseen, "--only", "nothing-like-this", "--out", bars), "No groups of results");
        (code, output) = Tina("plot", "pacc", "--json", unseen, "--only", "id", "--out", bars);
        Assert.True(code == 0, output);
        AssertUserError(Tina("plot", "pacc", "--json", unseen, "--labels", "a", "b", "--out", bars), "one --labels entry per --json file");
        // --methods keeps only the named methods; naming none that the files hold is an error.
        (code, output) = Tina("plot", "pacc", "--json", unseen, unseen, "--labels", "a", "b", "--only", "id", "--methods", "tina", "--out", bars);
        Assert.True(code == 0, output);
        AssertUserError(Tina("plot", "pacc", "--json", unseen, "--methods", "taper-mixer", "--out", bars), "None of the methods taper-mixer");
    }

    [Fact]
    public void BadInputFilesAreOneLineNamingTheFile()
    {
        var dir = TestData.TempDir();
        var png = Path.Combine(dir, "chart.png");
        var csv = Path.Combine(dir, "loss.csv");
        File.WriteAllText(csv, "epoch,loss\n1,0.2\n2,abc\n");
        AssertUserError(Tina("plot", "loss", "--csv", csv, "--out", png), $"Corrupt or unreadable file {csv}: line 3 is not 'epoch,loss'");
        File.WriteAllText(csv, "epoch,loss\n");
        AssertUserError(Tina("plot", "loss", "--csv", csv, "--out", png), $"{csv}: it has no epochs");
        AssertUserError(Tina("plot", "loss", "--csv", Path.Combine(dir, "missing.csv"), "--out", png), $"File not found: {Path.Combine(dir, "missing.csv")}");
        var json = Path.Combine(dir, "eval.json");
        File.WriteAllText(json, "{ not json");
        AssertUserError(Tina("plot", "pacc", "--json", json, "--out", png), $"Corrupt or unreadable file {json}");
        File.WriteAllText(json, """{"id":{"tasks":3,"methods":{"tina":{"pAcc":"high","std":5}}}}""");
        AssertUserError(Tina("plot", "pacc", "--json", json, "--out", png), $"{json}: method 'tina': \"pAcc\" is not a number");
        Assert.False(File.Exists(png));
    }

    [Fact]
    public void TinaTrainWritesTheLossChartNextToTheLossCsv()
    {
        var dir = Path.Combine(TestData.TempDir(), "tina");
        var (code, output) = Tina("train", "--zoo", Generation.GenerationFixture.ZooDir, "--config", "tiny", "--epochs", "2", "--batch-size", "4",
            "--warmup-epochs", "1", "--encoder", "minilm", "--out", dir);
        Assert.True(code == 0, output);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "loss.csv")).Length); // header + 2 epochs
        Assert.True(IsPng(Path.Combine(dir, "loss.png")), output);
        Assert.DoesNotContain("No chart", output);
    }
}
