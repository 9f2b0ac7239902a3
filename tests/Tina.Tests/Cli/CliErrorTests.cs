namespace Tina.Tests.Cli;

/// <summary>Bad input through the real <c>tina</c> executable: a clear message, exit code 2, no stack trace.</summary>
public class CliErrorTests
{
    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.ArtifactsDir, args);

    [Theory]
    [InlineData("Unknown class 'zebra'", "export", "--classes", "apple, zebra", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("Duplicate classes in the list: apple", "export", "--classes", "apple, Apple", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("The class list is empty", "export", "--classes", " , ", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("File not found: /nonexistent/m.onnx", "predict", "--model", "/nonexistent/m.onnx", "--image", "a.png")]
    [InlineData("Unknown method(s): foo", "eval", "--methods", "foo")]
    [InlineData("Unknown p-Model architecture 'vgg'", "export", "--arch", "vgg", "--classes", "apple", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("--groups: 'x' is not a positive integer", "bench", "zoo", "--groups", "8,x")]
    [InlineData("--steps: '0' is not a positive integer", "bench", "generate", "--steps", "20,0")]
    [InlineData("Unknown classifier tokenization 'rowz'", "train", "--zoo", "/nonexistent", "--classifier-tokens", "rowz")]
    [InlineData("The task-mixing probability must be in [0, 1]; got 2", "train", "--zoo", "/nonexistent", "--mix-tasks", "2")]
    [InlineData("Unknown loss weighting 'foo'", "train", "--zoo", "/nonexistent", "--loss-weighting", "foo")]
    [InlineData("Unknown normalisation 'bar'", "train", "--zoo", "/nonexistent", "--normalize", "bar")]
    public void UserErrorsAreOneClearLineWithExitCode2(string expected, params string[] args)
    {
        var (code, output) = Tina(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, output.Replace("\n", " ").Replace("  ", " "));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void CorruptGenericModelIsReported()
    {
        var artifacts = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(artifacts, "generic"));
        File.WriteAllText(Path.Combine(artifacts, "generic", "cifar100-cnn5k.json"), "{ not json");
        var (code, output) = TinaProcess.Run(artifacts, "generic", "show");
        Assert.Equal(2, code);
        Assert.Contains("Corrupt or unreadable file", output);
        Assert.DoesNotContain("   at ", output);
    }
}
