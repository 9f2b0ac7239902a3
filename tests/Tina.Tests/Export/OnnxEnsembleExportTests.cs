using Microsoft.ML.OnnxRuntime;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.PModels;
using Xunit.Abstractions;
using static Tina.Tests.Export.OnnxTestSupport;

namespace Tina.Tests.Export;

/// <summary>Seed-ensemble ONNX graphs: one graph, mean softmax of the members, backbone shared when it can be.</summary>
public class OnnxEnsembleExportTests(ITestOutputHelper output)
{
    private static readonly int[] Sample = Enumerable.Range(0, 32).Select(i => i * 300 + 11).ToArray();

    /// <summary>The members' own ONNX models in ONNX Runtime, softmax averaged in double.</summary>
    internal static float[] MeanOfMembers(IEnumerable<PModel> members, float[] images, int n)
    {
        double[]? sum = null;
        int k = 0;
        foreach (var m in members)
        {
            using var session = new InferenceSession(OnnxExporter.Export(m));
            var (scores, _) = RunOnnx(session, images, n);
            sum ??= new double[scores.Length];
            for (int i = 0; i < scores.Length; i++) sum[i] += scores[i];
            k++;
        }
        return sum!.Select(v => (float)(v / k)).ToArray();
    }

    /// <summary>Runs the ensemble ONNX and checks scores = mean of the members' softmax (1e-5) and class_index = its argmax (up to near-ties).</summary>
    internal static double AssertIsMeanOfMembers(byte[] ensembleOnnx, IReadOnlyList<PModel> members, float[] images, int n)
    {
        int c = members[0].Labels.Count;
        var expected = MeanOfMembers(members, images, n);
        using var session = new InferenceSession(ensembleOnnx);
        var (scores, index) = RunOnnx(session, images, n);
        Assert.Equal(n * c, scores.Length);
        double maxDiff = 0;
        for (int i = 0; i < scores.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(scores[i] - expected[i]));
        Assert.True(maxDiff <= 1e-5, $"max |ensemble − mean of members' softmax| = {maxDiff:E2}");
        for (int i = 0; i < n; i++)
        {
            int want = ArgMax(expected, c, i);
            if (index[i] != want)
                Assert.True(Math.Abs(expected[i * c + want] - expected[i * c + (int)index[i]]) < 1e-5f, $"image {i}: class_index {index[i]}, argmax of the mean {want}");
        }
        return maxDiff;
    }

    [Fact]
    public void Cnn5kEnsembleRunsEveryMemberAndAveragesTheirSoftmax()
    {
        var members = new[] { RandomPModel(PModelArch.Cnn5k, 6, 21), RandomPModel(PModelArch.Cnn5k, 6, 22), RandomPModel(PModelArch.Cnn5k, 6, 23) };
        var ensemble = new PModelEnsemble(members, [5, 6, 7]);
        var proto = OnnxExporter.BuildModel(ensemble, "six classes", "test");
        // Each member's convolutions run on the input (its own weights), one head each, one Mean.
        Assert.Equal(6, proto.Graph.Node.Count(n => n.OpType == "Conv"));
        Assert.Equal(3, proto.Graph.Node.Count(n => n.OpType == "Gemm"));
        Assert.Single(proto.Graph.Node, n => n.OpType == "Mean");
        Assert.Equal(["scores", "class_index"], proto.Graph.Output.Select(o => o.Name));

        var images = TestImages(Sample);
        var bytes = OnnxExporter.Export(ensemble, "six classes", "test");
        var diff = AssertIsMeanOfMembers(bytes, members, images, Sample.Length);
        output.WriteLine($"CNN-5K ensemble of 3: {bytes.Length:N0} bytes, max diff {diff:E2}");

        var info = TinaOnnxModelReader.Read(bytes, "memory");
        Assert.Equal(3, info.EnsembleSize);
        Assert.Equal([5L, 6L, 7L], info.EnsembleSeeds!);
        Assert.Equal(members[0].Labels, info.Labels);
        Assert.Equal("test", info.Method);
        // Without known seeds, only the size is recorded.
        var unseeded = TinaOnnxModelReader.Read(OnnxExporter.Export(new PModelEnsemble(members)), "memory");
        Assert.Equal(3, unseeded.EnsembleSize);
        Assert.Null(unseeded.EnsembleSeeds);
        // A single p-Model reads as an ensemble of one.
        Assert.Equal(1, TinaOnnxModelReader.Read(OnnxExporter.Export(members[0]), "memory").EnsembleSize);
    }

    [Fact]
    public void ResNetHeadsShareOneBackbone()
    {
        var a = RandomPModel(PModelArch.ResNet20, 5, 31);
        var b = RandomPModel(PModelArch.ResNet20, 5, 32);
        var c = RandomPModel(PModelArch.ResNet20, 5, 33);
        // Three heads on a's frozen backbone (as Tina generates them).
        var members = new[] { a, new PModel(a.Arch, a.Labels, b.Parameters, a.Frozen), new PModel(a.Arch, a.Labels, c.Parameters, a.Frozen) };
        var ensemble = new PModelEnsemble(members, [1, 2, 3]);
        var proto = OnnxExporter.BuildModel(ensemble);
        Assert.Equal(21, proto.Graph.Node.Count(n => n.OpType == "Conv"));        // the backbone once
        Assert.Single(proto.Graph.Node, n => n.OpType == "GlobalAveragePool");
        Assert.Equal(3, proto.Graph.Node.Count(n => n.OpType == "Gemm"));
        var bytes = OnnxExporter.Export(ensemble);
        var single = OnnxExporter.Export(a);
        Assert.True(bytes.Length < single.Length + 10_000, $"shared backbone: {bytes.Length:N0} bytes vs {single.Length:N0} for one p-Model");

        var images = TestImages(Sample);
        var diff = AssertIsMeanOfMembers(bytes, members, images, Sample.Length);

        // Members with different backbones each run their own (correct, just larger).
        var separate = new PModelEnsemble([a, b]);
        var sepProto = OnnxExporter.BuildModel(separate);
        Assert.Equal(42, sepProto.Graph.Node.Count(n => n.OpType == "Conv"));
        var diff2 = AssertIsMeanOfMembers(OnnxExporter.Export(separate), [a, b], images, Sample.Length);
        output.WriteLine($"ResNet-20 ensemble of 3 heads: {bytes.Length:N0} bytes (one p-Model {single.Length:N0}), max diff {diff:E2}; two backbones: max diff {diff2:E2}");
    }

    [Fact]
    public void EnsembleOfOneIsTheSingleModelByteForByte()
    {
        var m = RandomPModel(PModelArch.Cnn5k, 4, 41);
        Assert.Equal(OnnxExporter.Export(m, "p", "x"), OnnxExporter.Export(new PModelEnsemble([m], [9]), "p", "x"));
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void EnsembleFilePassesOnnxChecker(PModelArch arch)
    {
        var a = RandomPModel(arch, 4, 51);
        var b = RandomPModel(arch, 4, 52);
        var second = arch == PModelArch.ResNet20 ? new PModel(arch, a.Labels, b.Parameters, a.Frozen) : b;
        var path = Path.Combine(TestData.TempDir(), $"{arch}-ensemble.onnx");
        OnnxExporter.Save(new PModelEnsemble([a, second], [1, 2]), path, "a prompt", "tina ddim-50 seed 1 ema ensemble 2");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        CheckWithOnnxChecker(path);
    }

    [Fact]
    public void BadEnsembleMetadataIsATinaError()
    {
        var m = RandomPModel(PModelArch.Cnn5k, 3, 61);
        var proto = OnnxExporter.BuildModel(new PModelEnsemble([m, m], [1, 2]));
        proto.MetadataProps.Single(p => p.Key == TinaOnnxSchema.EnsembleSeedsKey).Value = "[1]";
        var e = Assert.Throws<InvalidModelException>(() => TinaOnnxModelReader.Read(Google.Protobuf.MessageExtensions.ToByteArray(proto), "x.onnx"));
        Assert.Contains("1 seeds for an ensemble of 2", e.Message);
        proto.MetadataProps.Single(p => p.Key == TinaOnnxSchema.EnsembleSizeKey).Value = "two";
        Assert.Contains("positive integer", Assert.Throws<InvalidModelException>(() => TinaOnnxModelReader.Read(Google.Protobuf.MessageExtensions.ToByteArray(proto), "x.onnx")).Message);
    }
}
