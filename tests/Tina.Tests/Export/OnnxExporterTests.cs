using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.MLNet.Onnx.Proto;
using Tina.PModels;
using Xunit.Abstractions;
using static Tina.Tests.Export.OnnxTestSupport;

namespace Tina.Tests.Export;

public class OnnxExporterTests(ITestOutputHelper output)
{
    /// <summary>64 CIFAR-100 test images spread over the split.</summary>
    private static readonly int[] Sample = Enumerable.Range(0, 64).Select(i => i * 150 + 7).ToArray();

    [Theory]
    [InlineData(PModelArch.Cnn5k, 10, 11)]
    [InlineData(PModelArch.Cnn5k, 7, 12)]
    [InlineData(PModelArch.ResNet20, 10, 13)]
    [InlineData(PModelArch.ResNet20, 7, 14)]
    public void OnnxRuntimeMatchesTorchSharp(PModelArch arch, int classes, int seed)
    {
        var sw = Stopwatch.StartNew();
        var model = RandomPModel(arch, classes, seed);
        var makeMs = sw.Elapsed.TotalMilliseconds;
        sw.Restart();
        var bytes = OnnxExporter.Export(model);
        var exportMs = sw.Elapsed.TotalMilliseconds;

        int n = Sample.Length;
        var images = TestImages(Sample);
        var logits = TorchLogits(model, images, n);
        var expected = Softmax(logits, classes);

        using var session = new InferenceSession(bytes);
        var (scores, index) = RunOnnx(session, images, n);
        Assert.Equal(n * classes, scores.Length);
        Assert.Equal(n, index.Length);

        double maxDiff = 0;
        for (int i = 0; i < scores.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(scores[i] - expected[i]));
        Assert.True(maxDiff <= 1e-5, $"max |ORT − softmax(TorchSharp)| = {maxDiff:E2}");

        // The probabilities must not be saturated, or the comparison above would prove little.
        Assert.True(expected.Count(p => p > 0.01f && p < 0.99f) >= n, "scores are saturated");
        int distinct = 0;
        var seen = new HashSet<long>();
        for (int i = 0; i < n; i++)
        {
            int want = ArgMax(logits, classes, i);
            if (index[i] != want)
            {
                // Only a near-tie may resolve differently under float rounding.
                float gap = Math.Abs(logits[i * classes + want] - logits[i * classes + (int)index[i]]);
                Assert.True(gap < 1e-5f, $"image {i}: class_index {index[i]}, TorchSharp argmax {want} (gap {gap})");
            }
            if (seen.Add(index[i])) distinct++;
        }

        Assert.True(distinct >= 3, $"only {distinct} distinct predictions on {n} images");

        // Batch 1 gives the same as batch 64 (symbolic batch dimension).
        var (one, oneIndex) = RunOnnx(session, images[..(3 * 32 * 32)], 1);
        for (int k = 0; k < classes; k++) Assert.Equal(scores[k], one[k], 1e-6f);
        Assert.Equal(index[0], oneIndex[0]);

        sw.Restart();
        const int reps = 100;
        var single = images[..(3 * 32 * 32)];
        for (int r = 0; r < reps; r++) RunOnnx(session, single, 1);
        output.WriteLine($"{arch} C={classes}: model {makeMs:F0} ms, export {exportMs:F1} ms, {bytes.Length:N0} bytes, max diff {maxDiff:E2}, " +
            $"{distinct} distinct predictions, ORT batch-1 {sw.Elapsed.TotalMilliseconds * 1000 / reps:F0} µs/run");
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k, 10)]
    [InlineData(PModelArch.ResNet20, 7)]
    public void ExportedFilePassesOnnxChecker(PModelArch arch, int classes)
    {
        var path = Path.Combine(TestData.TempDir(), $"{arch}.onnx");
        OnnxExporter.Save(RandomPModel(arch, classes, 3), path, prompt: "a test prompt", method: "classifier-selection");
        Assert.True(File.Exists(path));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
        CheckWithOnnxChecker(path);
    }

    [Fact]
    public void MetadataRoundTrips()
    {
        var model = RandomPModel(PModelArch.Cnn5k, 4, 5);
        var labels = new[] { "apple", "aquarium fish", "Ünïcode \"quoted\"", "comma, inside" };
        var relabelled = new PModel(model.Arch, labels, model.Parameters);
        var dir = TestData.TempDir();

        var withPrompt = Path.Combine(dir, "a.onnx");
        OnnxExporter.Save(relabelled, withPrompt, prompt: "fruit and fish", method: "classifier-selection");
        var info = TinaOnnxModelReader.Read(withPrompt);
        Assert.Equal(labels, info.Labels);
        Assert.Equal("cnn5k", info.Arch);
        Assert.Equal("fruit and fish", info.Prompt);
        Assert.Equal("classifier-selection", info.Method);
        Assert.Equal(TinaOnnxSchema.ProducerName, info.ProducerName);
        Assert.Equal(OnnxExporter.ProducerVersion, info.ProducerVersion);
        Assert.False(string.IsNullOrEmpty(info.ProducerVersion));
        Assert.Equal(8, info.IrVersion);
        Assert.Equal(17, info.OpsetVersion);
        Assert.Contains("0.5", info.Normalization);
        Assert.Equal("iso-crop", info.ResizeMode);
        Assert.Equal(TinaOnnxSchema.SchemaVersion, info.SchemaVersion);

        var defaults = TinaOnnxModelReader.Read(OnnxExporter.Export(relabelled), "memory");
        Assert.Equal(string.Join(", ", labels), defaults.Prompt);
        Assert.Null(defaults.Method);

        var resnet = TinaOnnxModelReader.Read(OnnxExporter.Export(RandomPModel(PModelArch.ResNet20, 3, 6)), "memory");
        Assert.Equal("resnet20", resnet.Arch);
        Assert.Equal(3, resnet.NumClasses);
    }

    [Fact]
    public void GraphHasTheDocumentedSignature()
    {
        var proto = OnnxExporter.BuildModel(RandomPModel(PModelArch.ResNet20, 5, 8));
        var input = Assert.Single(proto.Graph.Input);
        Assert.Equal("image", input.Name);
        Assert.Equal((int)TensorProto.Types.DataType.Float, input.Type.TensorType.ElemType);
        Assert.Equal("N", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal(new long[] { 3, 32, 32 }, input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue));
        Assert.Equal(["scores", "class_index"], proto.Graph.Output.Select(o => o.Name));
        Assert.Equal((int)TensorProto.Types.DataType.Int64, proto.Graph.Output[1].Type.TensorType.ElemType);
        Assert.Equal(5, proto.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue);
        // Every input and output says what it holds.
        Assert.Contains("[0,1]", input.DocString);
        Assert.All(proto.Graph.Output, o => Assert.Contains("tina.labels", o.DocString));
        // Batch norms are folded: no BatchNormalization node, 19 + 2 convolutions with a bias.
        Assert.DoesNotContain(proto.Graph.Node, n => n.OpType == "BatchNormalization");
        Assert.Equal(21, proto.Graph.Node.Count(n => n.OpType == "Conv" && n.Input.Count == 3));
        Assert.All(proto.Graph.Initializer, t => Assert.Equal(t.Dims.Aggregate(1L, (a, b) => a * b) * 4, t.RawData.Length));
        var argmax = proto.Graph.Node.Single(n => n.OpType == "ArgMax");
        var keepdims = argmax.Attribute.Single(a => a.Name == "keepdims");
        Assert.True(keepdims.HasI);
        Assert.Equal(0, keepdims.I);
    }

    [Fact]
    public void BadFilesGiveTinaErrorsNamingTheFile()
    {
        var dir = TestData.TempDir();
        var missing = Path.Combine(dir, "missing.onnx");
        var e1 = Assert.Throws<TinaFileNotFoundException>(() => TinaOnnxModelReader.Read(missing));
        Assert.Contains(missing, e1.Message);

        var text = Path.Combine(dir, "notes.onnx");
        File.WriteAllText(text, "this is not an ONNX model, just some text\n");
        var e2 = TinaAssert.ThrowsTinaError(() => TinaOnnxModelReader.Read(text));
        Assert.Contains(text, e2.Message);

        var empty = Path.Combine(dir, "empty.onnx");
        File.WriteAllBytes(empty, []);
        Assert.Contains(empty, TinaAssert.ThrowsTinaError(() => TinaOnnxModelReader.Read(empty)).Message);

        // A valid ONNX model that Tina did not write (no metadata).
        var proto = OnnxExporter.BuildModel(RandomPModel(PModelArch.Cnn5k, 3, 9));
        proto.MetadataProps.Clear();
        var foreign = Path.Combine(dir, "foreign.onnx");
        File.WriteAllBytes(foreign, Google.Protobuf.MessageExtensions.ToByteArray(proto));
        var e3 = TinaAssert.ThrowsTinaError(() => TinaOnnxModelReader.Read(foreign));
        Assert.Contains(foreign, e3.Message);
        Assert.Contains("not a Tina", e3.Message);
    }

    [Fact]
    public void ClassifierSelectionAnswersWithTheWordsTyped()
    {
        var cifar = Fixtures.Cifar;
        using var generic = Fixtures.UntrainedGeneric(cifar, Tina.PModels.PModelArch.Cnn5k, seed: 2);
        var task = Tina.Tasks.PersonalizationTask.FromPrompt(cifar, "maple tree, Oak_Tree");
        var onnx = OnnxExporter.Export(Tina.Generic.ClassifierSelection.Create(generic, task), task.Prompt, "classifier-selection");
        Assert.Equal(["maple tree", "Oak_Tree"], TinaOnnxModelReader.Read(onnx, "cs").Labels);
    }
}
