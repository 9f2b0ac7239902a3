using Tina.Data;
using Tina.MLNet;
using Tina.MLNet.Generation.Export;
using Tina.PModels;
using Tina.Runtime;
using Tina.Tests.Export;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Tests.MLNet;

/// <summary>
/// A CNN-5K fitted to three CIFAR-100 classes (so accuracy is well above chance), its ONNX export,
/// and the 300 test images of those classes written as PNG files. Built once per test run.
/// </summary>
internal sealed class ThreeClassFixture
{
    private static readonly Lazy<ThreeClassFixture> _instance = new(() => new ThreeClassFixture());

    /// <summary>The shared instance.</summary>
    public static ThreeClassFixture Instance => _instance.Value;


    private ThreeClassFixture()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var data = Fixtures.CifarSubset(classes: 3, perClass: 300, testPerClass: 100);
        var dataMs = sw.ElapsedMilliseconds;
        Model = new PModel(PModelArch.Cnn5k, data.ClassNames, RidgeHeadOnRandomConvs(data.Train, seed: 7));
        var trainMs = sw.ElapsedMilliseconds;
        Onnx = OnnxExporter.Export(Model, prompt: "apple, aquarium fish, baby", method: "ridge-test");

        ImageDir = TestData.TempDir();
        var test = data.Test;
        FileNames = new string[test.Count];
        TrueLabels = test.Labels;
        Pixels = new float[test.Count * 3 * 32 * 32];
        for (int i = 0; i < test.Count; i++)
        {
            FileNames[i] = $"{i:D3}_{data.ClassNames[test.Labels[i]].Replace(' ', '_')}.png";
            Tina.Data.PngWriter.Write(Path.Combine(ImageDir, FileNames[i]), test.Image(i));
            var img = test.Image(i);
            for (int j = 0; j < img.Length; j++) Pixels[i * img.Length + j] = img[j] / 255f;
        }
        Timings = $"fixture: data {dataMs} ms, head fit {trainMs - dataMs} ms, export + {Count} PNGs {sw.ElapsedMilliseconds - trainMs} ms";
    }

    /// <summary>
    /// A CNN-5K whose convolutions keep their seeded random initialisation and whose head is the ridge-regression
    /// fit of ±1 class targets on the standardised features of <paramref name="train"/>: deterministic, ~0.1 s, and
    /// clearly above chance on these three visually distinct classes (gradient training was ~30 s on a loaded 2-core box).
    /// </summary>
    private static float[] RidgeHeadOnRandomConvs(ImageSet train, int seed)
    {
        using var net = Tina.Runtime.Seeds.WithGlobalSeed(seed, () => new Cnn5k(3));
        net.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var f = net.Features(OnnxTestSupport.Normalize(train.ToTensor(Enumerable.Range(0, train.Count).ToArray()))).to_type(ScalarType.Float64);
        var mean = f.mean([0L]);
        var std = f.std(0).Plus(1e-6);
        var z = cat([(f - mean) / std, ones(f.shape[0], 1, ScalarType.Float64)], 1);
        var y = nn.functional.one_hot(tensor(train.Labels, ScalarType.Int64), 3).to_type(ScalarType.Float64).Times(2.0).Plus(-1.0);
        var w = linalg.solve(z.T.matmul(z).Plus(eye(z.shape[1], dtype: ScalarType.Float64), 1.0), z.T.matmul(y));   // [33, 3]
        const double scale = 3.0; // spreads the logits so the softmax is informative but not saturated
        var wf = w[..32] / std.unsqueeze(1);
        var bias = w[32] - (mean / std).matmul(w[..32]);
        net.fc.weight!.copy_(wf.T.Times(scale).to_type(ScalarType.Float32));
        net.fc.bias!.copy_(bias.Times(scale).to_type(ScalarType.Float32));
        return StateDict.Flatten(net);
    }

    /// <summary>The trained p-Model (labels: apple, aquarium fish, baby).</summary>
    public PModel Model { get; }

    /// <summary>Its ONNX export.</summary>
    public byte[] Onnx { get; }

    /// <summary>Folder holding the PNG files.</summary>
    public string ImageDir { get; }

    /// <summary>PNG file names (relative to <see cref="ImageDir"/>), one per test image.</summary>
    public string[] FileNames { get; }

    /// <summary>True class index of each image.</summary>
    public int[] TrueLabels { get; }

    /// <summary>The same images as floats in [0, 1], CHW, image after image (what ONNX Runtime gets directly).</summary>
    public float[] Pixels { get; }

    /// <summary>How long building the fixture took, for the test log.</summary>
    public string Timings { get; }

    /// <summary>Number of images.</summary>
    public int Count => FileNames.Length;
}
