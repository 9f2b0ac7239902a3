using Tina.Generation;
using Tina.MLNet.Export;
using Tina.MLNet.MLNet;

namespace Tina.Tests.Generation;

/// <summary><c>tina generate</c> and <c>tina bench generate</c> through the real executable, on the fixture's checkpoint.</summary>
public class TinaCliTests
{
    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.TempDir(), args);

    [Fact]
    public void GenerateWritesTheSameModelAsTheLibrary()
    {
        var ckpt = GenerationFixture.CheckpointDir;
        var dir = TestData.TempDir();
        var onnx = Path.Combine(dir, "m.onnx");
        var zip = Path.Combine(dir, "m.zip");
        var (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, bear, bicycle", "--out", onnx, "--mlnet", zip, "--seed", "1");
        Assert.True(code == 0, output);
        var info = TinaOnnxModelReader.Read(File.ReadAllBytes(onnx), onnx);
        Assert.Equal(["apple", "bear", "bicycle"], info.Labels);
        Assert.Equal(info.Labels, TinaMLNetModel.ReadEmbeddedModelInfo(zip)!.Labels);
        using var gen = TinaGenerator.Load(ckpt);
        var expected = gen.Generate(["apple", "bear", "bicycle"], new GenerateOptions { Seed = 1 });
        var options = new GenerateOptions { Seed = 1 };
        Assert.Equal(OnnxExporter.Export(expected, "apple, bear, bicycle", options.Describe()), File.ReadAllBytes(onnx));

        (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, pear", "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("test-hash-16d", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void BenchGeneratePrintsPercentiles()
    {
        var (code, output) = Tina("bench", "generate", "--generator", GenerationFixture.CheckpointDir, "--runs", "3", "--ddpm-runs", "0", "--steps", "10");
        Assert.True(code == 0, output);
        Assert.Contains("DDIM-10", output);
        Assert.Contains("p90 ms", output);
    }
}
