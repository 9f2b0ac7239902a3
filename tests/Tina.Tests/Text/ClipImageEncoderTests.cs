using Tina.Data;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.MLNet.Onnx.Proto;
using Tina.MLNet.Generation.Text;
using Tina.Tests.Generation;
using Tina.Text;
using static Tina.Tests.Text.SyntheticOnnx;

namespace Tina.Tests.Text;

/// <summary>
/// The CLIP image path on a tiny stand-in image tower (the real weights are not available): pixels [N,3,4,4] →
/// Flatten → MatMul with a fixed [48,D] weight, so the expected embedding of a one-colour image is computable by hand.
/// </summary>
public sealed class ClipImageEncoderTests
{
    private const int S = 4, D = 16;
    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    private static float[] Weight()
    {
        var rng = new Random(3);
        return Enumerable.Range(0, 3 * S * S * D).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Hugging Face style: pixel_values → image_embeds, with a decoy first output.</summary>
    private static string ImageModel(float[] w)
    {
        var g = new GraphProto { Name = "clip_image" };
        g.Input.Add(Value("pixel_values", TensorProto.Types.DataType.Float, "batch", 3, S, S));
        g.Initializer.Add(Initializer("W", w, 3 * S * S, D));
        g.Node.Add(Node("Flatten", ["pixel_values"], "flat", axis: 1));
        g.Node.Add(Node("MatMul", ["flat", "W"], "image_embeds"));
        g.Node.Add(Node("Identity", ["flat"], "last_hidden_state"));
        g.Output.Add(Value("last_hidden_state", TensorProto.Types.DataType.Float, "batch", 3 * S * S));
        g.Output.Add(Value("image_embeds", TensorProto.Types.DataType.Float, "batch", D));
        return Save(g, "image.onnx");
    }

    /// <summary>A one-colour square PNG of <paramref name="size"/> pixels (any size: every resize of one colour is that colour).</summary>
    private static byte[] Png(byte r, byte g, byte b, int size = 32)
    {
        var chw = new byte[3 * size * size];
        chw.AsSpan(0, size * size).Fill(r);
        chw.AsSpan(size * size, size * size).Fill(g);
        chw.AsSpan(2 * size * size, size * size).Fill(b);
        var path = Path.Combine(TestData.TempDir(), "c.png");
        PngWriter.Write(path, chw, size);
        return File.ReadAllBytes(path);
    }

    private static float[] Expected(float[] w, params (byte R, byte G, byte B)[] colours)
    {
        var sum = new float[D];
        foreach (var (r, g, b) in colours)
        {
            byte[] c = [r, g, b];
            var e = new double[D];
            for (int k = 0; k < 3; k++)
                for (int j = 0; j < S * S; j++)
                {
                    double x = (c[k] / 255.0 - Mean[k]) / Std[k];
                    for (int o = 0; o < D; o++) e[o] += x * w[(k * S * S + j) * D + o];
                }
            var v = e.Select(x => (float)x).ToArray();
            TextVectors.Normalize(v);
            for (int o = 0; o < D; o++) sum[o] += v[o];
        }
        TextVectors.Normalize(sum);
        return sum;
    }

    [Fact]
    public void OneColourImagesGiveTheHandComputedEmbedding()
    {
        var w = Weight();
        using var encoder = new ClipImageEncoder(ImageModel(w));
        Assert.Equal(S, encoder.Size);
        Assert.Matches("^clip-image:[0-9a-f]{16}$", encoder.Id);
        var red = encoder.Embed([Png(200, 30, 40)]);
        Assert.Equal(Expected(w, (200, 30, 40)), red, (a, b) => Math.Abs(a - b) < 1e-4);
        var two = encoder.Embed([Png(200, 30, 40), Png(10, 220, 90, size: 64)]);
        Assert.Equal(Expected(w, (200, 30, 40), (10, 220, 90)), two, (a, b) => Math.Abs(a - b) < 1e-4);
    }

    [Fact]
    public void BadModelsAndImagesAreTypedErrors()
    {
        Assert.Throws<TinaFileNotFoundException>(() => new ClipImageEncoder(Path.Combine(TestData.TempDir(), "missing.onnx")));
        var g = new GraphProto { Name = "not_an_image_model" };
        g.Input.Add(Value("x", TensorProto.Types.DataType.Float, "batch", 7));
        g.Node.Add(Node("Identity", ["x"], "y"));
        g.Output.Add(Value("y", TensorProto.Types.DataType.Float, "batch", 7));
        var e = Assert.Throws<TinaException>(() => new ClipImageEncoder(Save(g)));
        Assert.Contains("[N, 3, S, S]", e.Message);
        using var encoder = new ClipImageEncoder(ImageModel(Weight()));
        Assert.Throws<InvalidDataException>(() => encoder.Embed([[1, 2, 3, 4]]));
        Assert.Throws<TinaException>(() => encoder.Embed([]));
    }

    [Fact]
    public void GenerateTakesImagePromptsThroughClipsImageTower()
    {
        // A generator trained on (stand-in) CLIP text, then prompted with images through the same CLIP's image tower.
        var textModel = ClipTextEncoderTests.OpenAiModel(ClipTextEncoderTests.Weight(D, seed: 1), D, TensorProto.Types.DataType.Int64, "N");
        var root = TestData.TempDir();
        var generator = Path.Combine(root, "tina-clip");
        using (var text = new ClipTextEncoder(textModel, new ClipTokenizer(ClipTokenizer.DefaultMergesPath(TestData.DataDir))))
            new TinaTrainer(GenerationFixture.Options(1), text).Train(GenerationFixture.ZooDir, generator);
        var images = Path.Combine(root, "images");
        Directory.CreateDirectory(Path.Combine(images, "red"));
        File.WriteAllBytes(Path.Combine(images, "red", "a.png"), Png(200, 30, 40));
        File.WriteAllBytes(Path.Combine(images, "red", "b.png"), Png(180, 20, 20));
        File.WriteAllBytes(Path.Combine(images, "green.png"), Png(10, 220, 90));
        var imageModel = ImageModel(Weight());
        var onnx = Path.Combine(root, "model.onnx");
        var (code, output) = TinaProcess.Run(root, "generate", "--generator", generator, "--image-prompts", images, "--clip-image-model", imageModel, "--out", onnx, "--steps", "5");
        Assert.True(code == 0, output);
        using (var predictor = Tina.MLNet.TinaPredictor.Load(onnx))
            Assert.Equal(["green", "red"], predictor.Labels);

        // A generator trained on other text cannot take CLIP image embeddings.
        (code, output) = TinaProcess.Run(root, "generate", "--generator", GenerationFixture.CheckpointDir, "--image-prompts", images, "--clip-image-model", imageModel, "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("trained on CLIP text", output);
    }
}
