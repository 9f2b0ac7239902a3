namespace Tina.Tests.Cli;

/// <summary>tina-plot, the separate chart process (ScottPlot cannot share a process with ML.NET's image transforms).</summary>
public class PlotToolTests
{
    // build/TinaPlot.targets copies tina-plot into plot/ next to the tests, as next to tina.
    private static (int Code, string Output) Plot(params string[] args) =>
        TinaProcess.Exec(Path.Combine("plot", OperatingSystem.IsWindows() ? "Tina.Plot.exe" : "Tina.Plot"), args);

    private static bool IsPng(string path) => File.ReadAllBytes(path).Take(8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });

    [Fact]
    public void DrawsTheLossCurveAndThePAccBarsAsPng()
    {
        var dir = Directory.CreateTempSubdirectory("tina-plot-").FullName;
        try
        {
            var csv = Path.Combine(dir, "loss.csv");
            File.WriteAllText(csv, "epoch,loss\n1,0.2\n2,0.1\n3,0.05\n");
            var loss = Path.Combine(dir, "loss.png");
            var (code, output) = Plot("loss", "--csv", csv, "--out", loss);
            Assert.True(code == 0, output);
            Assert.True(IsPng(loss));

            var json = Path.Combine(dir, "eval.json");
            File.WriteAllText(json, """{"arch":"cnn5k","id":{"tasks":3,"methods":{"generic":{"pAcc":28.1,"std":5.0},"tina":{"pAcc":64.0,"std":6.0}}},"ood":{"tasks":3,"methods":{"generic":{"pAcc":27.0,"std":5.5}}}}""");
            var bars = Path.Combine(dir, "bars.png");
            (code, output) = Plot("pacc", "--json", json, "--out", bars);
            Assert.True(code == 0, output);
            Assert.True(IsPng(bars));

            File.WriteAllText(json, """{"arch":"cnn5k"}""");
            (code, output) = Plot("pacc", "--json", json, "--out", bars);
            Assert.Equal(2, code);
            Assert.Contains("No groups of results", output);

            // A zoo with held-out classes reports one group per unseen share; two files get their own labels.
            var unseen = Path.Combine(dir, "unseen.json");
            File.WriteAllText(unseen, """{"arch":"resnet20","split":"test","id":{"tasks":3,"methods":{"tina":{"pAcc":70,"std":5}}},"ood-unseen-0":{"tasks":2,"methods":{"tina":{"pAcc":69,"std":5}}},"ood-unseen-100":{"tasks":2,"methods":{"tina":{"pAcc":50,"std":5}}}}""");
            (code, output) = Plot("pacc", "--json", unseen, unseen, "--labels", "a", "b", "--title", "Unseen classes", "--out", bars);
            Assert.True(code == 0, output);
            (code, output) = Plot("pacc", "--json", unseen, "--only", "nothing-like-this", "--out", bars);
            Assert.Equal(2, code);
            (code, output) = Plot("pacc", "--json", unseen, "--only", "id", "--out", bars);
            Assert.True(code == 0, output);
            (code, output) = Plot("pacc", "--json", unseen, "--labels", "a", "b", "--out", bars);
            Assert.Equal(2, code);
            Assert.Contains("one --labels entry per --json file", output);
            // --methods keeps only the named methods; naming none that the files hold is an error.
            (code, output) = Plot("pacc", "--json", json.Replace("eval.json", "unseen.json"), unseen, "--labels", "a", "b", "--only", "id", "--methods", "tina", "--out", bars);
            Assert.True(code == 0, output);
            (code, output) = Plot("pacc", "--json", unseen, "--methods", "taper-mixer", "--out", bars);
            Assert.Equal(2, code);
            Assert.Contains("None of the methods taper-mixer", output);
        }
        finally { Directory.Delete(dir, true); }
    }
}
