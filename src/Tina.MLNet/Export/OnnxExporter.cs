using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Tina.IO;
using Tina.MLNet.Onnx.Proto;
using Tina.PModels;
using static Tina.MLNet.Export.OnnxGraphBuilder;

namespace Tina.MLNet.Export;

/// <summary>
/// Exports a <see cref="PModel"/> to a self-contained ONNX classifier (IR 8, opset 17): input <c>image</c> float
/// [N, 3, 32, 32] in [0, 1]; the graph normalises it ((x − 0.5)/0.5 per channel), runs the network (ResNet-20 batch
/// norms folded into the preceding convolutions), and returns <c>scores</c> = softmax of the logits [N, C] and
/// <c>class_index</c> = argmax int64 [N]. Labels, prompt, architecture, method and normalisation are stored in
/// <c>metadata_props</c> (see <see cref="TinaOnnxSchema"/>) and read back by <see cref="TinaOnnxModelReader"/>.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Builds the ONNX model of <paramref name="model"/>.</summary>
    /// <param name="model">The p-Model to export.</param>
    /// <param name="prompt">The prompt it was generated from; defaults to the comma-joined labels.</param>
    /// <param name="method">How it was obtained (e.g. <c>tina</c>, <c>classifier-selection</c>); omitted when null.</param>
    /// <exception cref="TinaException">The p-Model lacks a tensor its architecture needs, or one has the wrong shape.</exception>
    public static ModelProto BuildModel(PModel model, string? prompt = null, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weights = new Weights(model.ToStateDict(), model.Arch);
        var g = new OnnxGraphBuilder($"tina_{model.Arch.ToName()}");
        int classes = model.Labels.Count;

        var image = g.Input(TinaOnnxSchema.InputName, TensorProto.Types.DataType.Float,
            Dim(TinaOnnxSchema.BatchDimension), Dim(3), Dim(Normalization.ImageSize), Dim(Normalization.ImageSize));
        var mean = g.Initializer("normalization.mean", [1, 3, 1, 1], Normalization.Mean);
        var std = g.Initializer("normalization.std", [1, 3, 1, 1], Normalization.Std);
        var x = g.Node("Div", [g.Node("Sub", [image, mean]), std], "normalized");

        var features = model.Arch switch
        {
            PModelArch.Cnn5k => Cnn5kFeatures(g, weights, x),
            PModelArch.ResNet20 => ResNet20Features(g, weights, x),
            _ => throw new ArgumentOutOfRangeException(nameof(model), model.Arch, "Unknown architecture."),
        };

        var pooled = g.Node("Flatten", [g.Node("GlobalAveragePool", [features])], "features", Int("axis", 1));
        var fcWeight = weights.Add(g, "fc.weight", [classes, model.Layout.FeatureDim]);
        var fcBias = weights.Add(g, "fc.bias", [classes]);
        var logits = g.Node("Gemm", [pooled, fcWeight, fcBias], "logits", Int("transB", 1));
        g.Node("Softmax", [logits], TinaOnnxSchema.ScoresName, Int("axis", 1));
        g.Node("ArgMax", [logits], TinaOnnxSchema.ClassIndexName, Int("axis", 1), Int("keepdims", 0));
        g.Output(TinaOnnxSchema.ScoresName, TensorProto.Types.DataType.Float, Dim(TinaOnnxSchema.BatchDimension), Dim(classes));
        g.Output(TinaOnnxSchema.ClassIndexName, TensorProto.Types.DataType.Int64, Dim(TinaOnnxSchema.BatchDimension));

        var proto = new ModelProto
        {
            IrVersion = TinaOnnxSchema.IrVersion,
            ProducerName = TinaOnnxSchema.ProducerName,
            ProducerVersion = ProducerVersion,
            ModelVersion = 1,
            DocString = $"Tina {model.Arch.ToName()} image classifier for {classes} classes: {string.Join(", ", model.Labels)}. "
                + "Input 'image' float [N,3,32,32], RGB planes, values in [0,1]; outputs 'scores' (softmax) and 'class_index' (argmax).",
            Graph = g.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = TinaOnnxSchema.OpsetVersion });
        AddMetadata(proto, TinaOnnxSchema.LabelsKey, JsonSerializer.Serialize(model.Labels));
        AddMetadata(proto, TinaOnnxSchema.PromptKey, prompt ?? string.Join(", ", model.Labels));
        AddMetadata(proto, TinaOnnxSchema.ArchKey, model.Arch.ToName());
        if (!string.IsNullOrWhiteSpace(method)) AddMetadata(proto, TinaOnnxSchema.MethodKey, method);
        AddMetadata(proto, TinaOnnxSchema.NormalizationKey, NormalizationJson);
        return proto;
    }

    /// <summary>The serialized ONNX model of <paramref name="model"/> (see <see cref="BuildModel"/>).</summary>
    public static byte[] Export(PModel model, string? prompt = null, string? method = null) =>
        BuildModel(model, prompt, method).ToByteArray();

    /// <summary>Exports <paramref name="model"/> and writes it atomically to <paramref name="path"/> (usually <c>*.onnx</c>).</summary>
    public static void Save(PModel model, string path, string? prompt = null, string? method = null)
    {
        var bytes = Export(model, prompt, method);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The <c>producer_version</c> written: this assembly's version without build metadata.</summary>
    public static string ProducerVersion { get; } = GetProducerVersion();

    private static readonly string NormalizationJson = JsonSerializer.Serialize(new
    {
        input = "RGB float [N,3,32,32], values in [0,1]",
        mean = Normalization.Mean,
        std = Normalization.Std,
        formula = "(x - mean) / std per channel",
        applied_in_graph = true,
    });

    private static string GetProducerVersion()
    {
        var asm = typeof(OnnxExporter).Assembly;
        var v = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? asm.GetName().Version?.ToString() ?? "0.0.0";
        int plus = v.IndexOf('+');
        return plus >= 0 ? v[..plus] : v;
    }

    private static void AddMetadata(ModelProto proto, string key, string value) =>
        proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static string Cnn5kFeatures(OnnxGraphBuilder g, Weights w, string x)
    {
        var h = g.Node("Relu", [Conv(g, x, w.Add(g, "conv1.weight", [16, 3, 3, 3]), null, 3, 2, 1)]);
        return g.Node("Relu", [Conv(g, h, w.Add(g, "conv2.weight", [32, 16, 3, 3]), null, 3, 1, 1)]);
    }

    private static string ResNet20Features(OnnxGraphBuilder g, Weights w, string x)
    {
        var h = g.Node("Relu", [ConvBn(g, w, x, "conv1", "bn1", 3, 16, 3, 1, 1)]);
        int cin = 16;
        foreach (var (stage, cout) in new[] { ("layer1", 16), ("layer2", 32), ("layer3", 64) })
        {
            for (int b = 0; b < 3; b++)
            {
                var p = $"{stage}.{b}";
                int stride = b == 0 && cout != cin ? 2 : 1;
                var a = g.Node("Relu", [ConvBn(g, w, h, $"{p}.conv1", $"{p}.bn1", cin, cout, 3, stride, 1)]);
                var r = ConvBn(g, w, a, $"{p}.conv2", $"{p}.bn2", cout, cout, 3, 1, 1);
                var shortcut = stride != 1 || cin != cout
                    ? ConvBn(g, w, h, $"{p}.downsample.0", $"{p}.downsample.1", cin, cout, 1, stride, 0)
                    : h;
                h = g.Node("Relu", [g.Node("Add", [r, shortcut])], $"{p}.out");
                cin = cout;
            }
        }
        return h;
    }

    /// <summary>A bias-free convolution followed by an eval-mode batch norm, folded into one Conv node.</summary>
    private static string ConvBn(OnnxGraphBuilder g, Weights w, string x, string conv, string bn, int cin, int cout, int k, int stride, int pad)
    {
        var (weight, bias) = BatchNormFolding.Fold(
            w.Get($"{conv}.weight", [cout, cin, k, k]),
            w.Get($"{bn}.weight", [cout]), w.Get($"{bn}.bias", [cout]),
            w.Get($"{bn}.running_mean", [cout]), w.Get($"{bn}.running_var", [cout]));
        var wName = g.Initializer($"{conv}.weight", [cout, cin, k, k], weight);
        var bName = g.Initializer($"{conv}.bias", [cout], bias);
        return Conv(g, x, wName, bName, k, stride, pad);
    }

    private static string Conv(OnnxGraphBuilder g, string x, string weight, string? bias, int k, int stride, int pad) =>
        g.Node("Conv", bias is null ? [x, weight] : [x, weight, bias], null,
            Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad),
            Ints("dilations", 1, 1), Int("group", 1));

    /// <summary>The p-Model's state dict with shape checks and a clear error for a missing tensor.</summary>
    private sealed class Weights(Dictionary<string, NamedTensor> stateDict, PModelArch arch)
    {
        public NamedTensor Get(string name, long[] shape)
        {
            if (!stateDict.TryGetValue(name, out var t))
                throw new TinaException($"Cannot export the {arch.ToName()} p-Model: tensor '{name}' is missing from its weights.");
            if (!t.Shape.SequenceEqual(shape))
                throw new TinaException($"Cannot export the {arch.ToName()} p-Model: tensor '{name}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}].");
            return t;
        }

        public string Add(OnnxGraphBuilder g, string name, long[] shape) => g.Initializer(name, shape, Get(name, shape).Data);
    }
}
