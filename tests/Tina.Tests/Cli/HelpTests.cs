namespace Tina.Tests.Cli;

/// <summary>The help of the real <c>tina</c> executable.</summary>
public class HelpTests
{
    [Fact]
    public void TrainHelpFitsOneScreenAndStillNamesTheHiddenResearchSettings()
    {
        var (code, output) = TinaProcess.Run(TestData.ArtifactsDir, "train", "--help");
        Assert.True(code == 0, output);
        var lines = output.TrimEnd().Split('\n');
        // One screen: 30 lines with the usage line (as printed to a pipe, one line per option).
        Assert.True(lines.Length <= 30, $"{lines.Length} lines:\n{output}");
        Assert.Contains("tina train [options]", output);
        foreach (var hidden in new[] { "--normalize", "--loss-weighting", "--vary-classes", "--warmup-epochs", "--checkpoint-every", "--image-share" })
        {
            // Not an option row, but named in the description.
            Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith(hidden + " ", StringComparison.Ordinal));
            Assert.Contains(hidden, output);
        }
        foreach (var shown in new[] { "--zoo", "--recipe", "--config", "--epochs", "--ablation", "--image-shots", "--init", "--out", "--encoder" })
            Assert.Contains(lines, l => l.TrimStart().StartsWith(shown + " ", StringComparison.Ordinal));
    }
}
