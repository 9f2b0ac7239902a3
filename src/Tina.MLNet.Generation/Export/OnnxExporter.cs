using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.IO;
using Tina.MLNet.Onnx.Proto;
using Tina.PModels;
using static Tina.MLNet.Export.OnnxGraphBuilder;

namespace Tina.MLNet.Generation.Export;

/// <summary>
/// Exports a <see cref="PModel"/> to a self-contained ONNX classifier (IR 8, opset 17): input <c>image</c> float
/// [N, 3, 32, 32] in [0, 1]; the graph normalises it ((x − 0.5)/0.5 per channel), runs the network (ResNet-20 batch
/// norms folded into the preceding convolutions), and returns <c>scores</c> = softmax of the logits [N, C] and
/// <c>class_index</c> = argmax int64 [N]. Labels, prompt, architecture, method and normalisation are stored in
/// <c>metadata_props</c> (see <see cref="TinaOnnxSchema"/>) and read back by <see cref="TinaOnnxModelReader"/>.
/// A <see cref="PModelEnsemble"/> exports to one graph with the same input and outputs: the members run on the same
/// input (a backbone they all share, such as ResNet-20's frozen one, is computed once and feeds every member's head),
/// <c>scores</c> is the mean of their softmax probabilities and <c>class_index</c> its argmax.
/// </summary>
public static class OnnxExporter
{
    /// <summary>Builds the ONNX model of <paramref name="model"/>.</summary>
    /// <param name="model">The p-Model to export.</param>
    /// <param name="prompt">The prompt it was generated from; defaults to the comma-joined labels.</param>
    /// <param name="method">How it was obtained (e.g. <c>tina</c>, <c>classifier-selection</c>); omitted when null.</param>
    /// <exception cref="TinaException">The p-Model lacks a tensor its architecture needs, or one has the wrong shape.</exception>
    internal static ModelProto BuildModel(PModel model, string? prompt = null, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var weights = new Weights(model.ToStateDict(), model.Arch);
        var g = new OnnxGraphBuilder($"tina_{model.Arch.ToName()}");
        int classes = model.Labels.Count, size = model.Arch.InputSize();

        var pooled = PooledFeatures(g, model.Arch, weights, "");
        var logits = Head(g, weights, pooled, classes, model.Layout.FeatureDim, "");
        g.Node("Softmax", [logits], TinaOnnxSchema.ScoresName, Int("axis", 1));
        g.Node("ArgMax", [logits], TinaOnnxSchema.ClassIndexName, Int("axis", 1), Int("keepdims", 0));
        g.Output(TinaOnnxSchema.ScoresName, TinaOnnxSchema.ScoresDoc, TensorProto.Types.DataType.Float, Dim(TinaOnnxSchema.BatchDimension), Dim(classes));
        g.Output(TinaOnnxSchema.ClassIndexName, TinaOnnxSchema.ClassIndexDoc, TensorProto.Types.DataType.Int64, Dim(TinaOnnxSchema.BatchDimension));

        var proto = NewModel(g, $"Tina {model.Arch.ToName()} image classifier for {classes} classes: {string.Join(", ", model.Labels)}. "
            + $"Input 'image' float [N,3,{size},{size}], RGB planes, values in [0,1]; outputs 'scores' (softmax) and 'class_index' (argmax).");
        AddCommonMetadata(proto, model.Labels, model.Arch, prompt, method, headOnly: false);
        return proto;
    }

    /// <summary>
    /// Builds the head alone of a p-Model on a frozen pretrained backbone (<c>resnet18</c>), for apps that already run
    /// the backbone: input <c>features</c> float [N, 512] (ML.NET's <c>DnnFeaturizeImage</c> with ResNet18 gives them),
    /// outputs <c>scores</c> and <c>class_index</c> as a one-file classifier's. A few KB; the metadata names the backbone
    /// (<see cref="TinaOnnxSchema.BackboneKey"/>, <c>included: false</c>). An ensemble's heads average their softmax.
    /// </summary>
    /// <exception cref="TinaException">The architecture is not a head on a pretrained backbone.</exception>
    internal static ModelProto BuildHead(PModelEnsemble ensemble, string? prompt = null, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var arch = ensemble.Arch;
        if (arch != PModelArch.ResNet18)
            throw new TinaException($"Only classifiers on a pretrained backbone (resnet18) can be exported as a head alone; a {arch.ToName()} classifier's backbone is its own. Export it whole.");
        int classes = ensemble.Labels.Count, k = ensemble.Count, featureDim = arch.FeatureDim();
        var g = new OnnxGraphBuilder($"tina_{arch.ToName()}_head");
        var features = g.Input(TinaOnnxSchema.FeaturesInputName, TinaOnnxSchema.FeaturesInputDoc, TensorProto.Types.DataType.Float,
            Dim(TinaOnnxSchema.BatchDimension), Dim(featureDim));
        var scores = MemberScores(g, ensemble, features, classes, featureDim);
        g.Node("ArgMax", [scores], TinaOnnxSchema.ClassIndexName, Int("axis", 1), Int("keepdims", 0));
        g.Output(TinaOnnxSchema.ScoresName, TinaOnnxSchema.ScoresDoc, TensorProto.Types.DataType.Float, Dim(TinaOnnxSchema.BatchDimension), Dim(classes));
        g.Output(TinaOnnxSchema.ClassIndexName, TinaOnnxSchema.ClassIndexDoc, TensorProto.Types.DataType.Int64, Dim(TinaOnnxSchema.BatchDimension));
        var proto = NewModel(g, $"Tina {arch.ToName()} classifier head{(k > 1 ? $" (ensemble of {k})" : "")} for {classes} classes: {string.Join(", ", ensemble.Labels)}. "
            + "Input 'features' float [N,512]: ML.NET's ResNet-18 features (DnnFeaturizeImage, ModelSelector.ResNet18) of the image resized to 224x224; outputs 'scores' (softmax) and 'class_index' (argmax).");
        AddCommonMetadata(proto, ensemble.Labels, arch, prompt, method, headOnly: true);
        AddEnsembleMetadata(proto, ensemble);
        return proto;
    }

    /// <summary>
    /// The scores of the members of <paramref name="ensemble"/> on shared <paramref name="pooled"/> features: one member's
    /// softmax, or the mean of K members' (named <see cref="TinaOnnxSchema.ScoresName"/>).
    /// </summary>
    private static string MemberScores(OnnxGraphBuilder g, PModelEnsemble ensemble, string pooled, int classes, int featureDim)
    {
        if (ensemble.Count == 1)
            return g.Node("Softmax", [Head(g, new Weights(ensemble.Members[0].ToStateDict(), ensemble.Arch), pooled, classes, featureDim, "")],
                TinaOnnxSchema.ScoresName, Int("axis", 1));
        var memberScores = ensemble.Members.Select((m, i) => g.Node("Softmax",
            [Head(g, new Weights(m.ToStateDict(), ensemble.Arch, $"ensemble member {i}"), pooled, classes, featureDim, $"member{i}.")],
            $"member{i}.scores", Int("axis", 1))).ToArray();
        return g.Node("Mean", memberScores, TinaOnnxSchema.ScoresName);
    }

    /// <summary>
    /// The graph input <c>image</c> and the pooled features [N, D] computed from it: for the CIFAR networks the
    /// normalisation and the network in the weights (names prefixed by <paramref name="prefix"/>); for ResNet-18 the
    /// package's backbone, preprocessing included.
    /// </summary>
    private static string PooledFeatures(OnnxGraphBuilder g, PModelArch arch, Weights weights, string prefix)
    {
        int size = arch.InputSize();
        var image = g.Graph.Input.Any(i => i.Name == TinaOnnxSchema.InputName) ? TinaOnnxSchema.InputName
            : g.Input(TinaOnnxSchema.InputName, TinaOnnxSchema.InputDoc(size), TensorProto.Types.DataType.Float,
                Dim(TinaOnnxSchema.BatchDimension), Dim(3), Dim(size), Dim(size));
        if (arch == PModelArch.ResNet18) return Tina.Features.BackboneFeatures.ResNet18.Backbone.AppendTo(g, image);
        var x = g.Graph.Node.Any(n => n.Output.Contains("normalized")) ? "normalized"
            : g.Node("Div", [g.Node("Sub", [image, g.Initializer("normalization.mean", [1, 3, 1, 1], Normalization.Mean)]),
                g.Initializer("normalization.std", [1, 3, 1, 1], Normalization.Std)], "normalized");
        return g.Node("Flatten", [g.Node("GlobalAveragePool", [Features(g, weights, x, prefix)])], $"{prefix}features", Int("axis", 1));
    }

    /// <summary>
    /// Builds one ONNX model that runs every member of <paramref name="ensemble"/> on the input and averages their
    /// softmax probabilities: <c>scores</c> [N, C] = mean of the members' softmax, <c>class_index</c> = its argmax.
    /// When all members have the same non-classifier tensors (ResNet-20's frozen backbone), those layers are computed
    /// once and feed K classifier heads; otherwise (CNN-5K, whose convolutions are generated too) each member's whole
    /// network runs on the normalised input. The metadata records the ensemble size and, when known, the member seeds
    /// (<see cref="TinaOnnxSchema.EnsembleSizeKey"/>, <see cref="TinaOnnxSchema.EnsembleSeedsKey"/>). An ensemble of
    /// one exports exactly as its p-Model does with <see cref="BuildModel(PModel, string?, string?)"/>.
    /// </summary>
    /// <param name="ensemble">The members (same architecture and labels, checked by <see cref="PModelEnsemble"/>).</param>
    /// <param name="prompt">The prompt they were generated from; defaults to the comma-joined labels.</param>
    /// <param name="method">How they were obtained (e.g. <c>tina ddim-50 seed 0 ema ensemble 4</c>); omitted when null.</param>
    /// <exception cref="TinaException">A member lacks a tensor its architecture needs, or one has the wrong shape.</exception>
    internal static ModelProto BuildModel(PModelEnsemble ensemble, string? prompt = null, string? method = null)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        if (ensemble.Count == 1) return BuildModel(ensemble.Members[0], prompt, method);
        var arch = ensemble.Arch;
        int classes = ensemble.Labels.Count, k = ensemble.Count, featureDim = ensemble.Members[0].Layout.FeatureDim, size = arch.InputSize();
        var weights = ensemble.Members.Select((m, i) => new Weights(m.ToStateDict(), arch, $"ensemble member {i}")).ToArray();
        bool shared = SharesBackbone(weights);
        var g = new OnnxGraphBuilder($"tina_{arch.ToName()}_ensemble{k}");

        string scores;
        if (shared)
        {
            scores = MemberScores(g, ensemble, PooledFeatures(g, arch, weights[0], ""), classes, featureDim);
        }
        else
        {
            var memberScores = new string[k];
            for (int m = 0; m < k; m++)
            {
                var prefix = $"member{m}.";
                var logits = Head(g, weights[m], PooledFeatures(g, arch, weights[m], prefix), classes, featureDim, prefix);
                memberScores[m] = g.Node("Softmax", [logits], $"{prefix}scores", Int("axis", 1));
            }
            scores = g.Node("Mean", memberScores, TinaOnnxSchema.ScoresName);
        }
        g.Node("ArgMax", [scores], TinaOnnxSchema.ClassIndexName, Int("axis", 1), Int("keepdims", 0));
        g.Output(TinaOnnxSchema.ScoresName, TinaOnnxSchema.ScoresDoc, TensorProto.Types.DataType.Float, Dim(TinaOnnxSchema.BatchDimension), Dim(classes));
        g.Output(TinaOnnxSchema.ClassIndexName, TinaOnnxSchema.ClassIndexDoc, TensorProto.Types.DataType.Int64, Dim(TinaOnnxSchema.BatchDimension));

        var proto = NewModel(g, $"Tina {arch.ToName()} ensemble of {k} image classifiers for {classes} classes: {string.Join(", ", ensemble.Labels)}"
            + (shared ? " (one shared backbone, one classifier head per member). " : ". ")
            + $"Input 'image' float [N,3,{size},{size}], RGB planes, values in [0,1]; outputs 'scores' (the mean of the members' softmax) and 'class_index' (its argmax).");
        AddCommonMetadata(proto, ensemble.Labels, arch, prompt, method, headOnly: false);
        AddEnsembleMetadata(proto, ensemble);
        return proto;
    }

    private static void AddEnsembleMetadata(ModelProto proto, PModelEnsemble ensemble)
    {
        if (ensemble.Count == 1) return;
        AddMetadata(proto, TinaOnnxSchema.EnsembleSizeKey, ensemble.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (ensemble.Seeds is { } seeds) AddMetadata(proto, TinaOnnxSchema.EnsembleSeedsKey, JsonSerializer.Serialize(seeds));
    }

    /// <summary>The serialized ONNX model of <paramref name="model"/> (see <see cref="BuildModel(PModel, string?, string?)"/>).</summary>
    public static byte[] Export(PModel model, string? prompt = null, string? method = null) =>
        BuildModel(model, prompt, method).ToByteArray();

    /// <summary>The serialized ONNX model of <paramref name="ensemble"/> (see <see cref="BuildModel(PModelEnsemble, string?, string?)"/>).</summary>
    public static byte[] Export(PModelEnsemble ensemble, string? prompt = null, string? method = null) =>
        BuildModel(ensemble, prompt, method).ToByteArray();

    /// <summary>
    /// The serialized head alone of a classifier on a pretrained backbone (see <see cref="BuildHead"/>): input
    /// <c>features</c> [N, 512], a few KB.
    /// </summary>
    /// <exception cref="TinaException">The architecture is not a head on a pretrained backbone (resnet18).</exception>
    public static byte[] ExportHead(PModelEnsemble ensemble, string? prompt = null, string? method = null) =>
        BuildHead(ensemble, prompt, method).ToByteArray();

    /// <summary>Exports <paramref name="model"/> and writes it atomically to <paramref name="path"/> (usually <c>*.onnx</c>).</summary>
    public static void Save(PModel model, string path, string? prompt = null, string? method = null)
    {
        var bytes = Export(model, prompt, method);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Exports <paramref name="ensemble"/> as one ONNX model and writes it atomically to <paramref name="path"/>.</summary>
    public static void Save(PModelEnsemble ensemble, string path, string? prompt = null, string? method = null)
    {
        var bytes = Export(ensemble, prompt, method);
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

    private static readonly string ResNet18NormalizationJson = JsonSerializer.Serialize(new
    {
        input = "RGB float [N,3,224,224], values in [0,1]",
        formula = "x * 255, channels reordered to BGR, minus the 224x224 mean image of ML.NET's ResNetPreprocess.onnx",
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

    /// <summary>
    /// Records <paramref name="mode"/> (<c>iso-crop</c>, <c>iso-pad</c> or <c>fill</c>) as the resize policy of a model
    /// built here for <paramref name="arch"/>'s input size, in place of the default the builders write, so a model is
    /// serialised once with the policy of the ML.NET pipeline that embeds it.
    /// </summary>
    internal static void SetResizeMode(ModelProto proto, PModelArch arch, string mode) =>
        proto.MetadataProps.Single(p => p.Key == TinaOnnxSchema.ResizeKey).Value = TinaOnnxSchema.ResizeJson(mode, arch.InputSize());

    internal static void AddMetadata(ModelProto proto, string key, string value) =>
        proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static ModelProto NewModel(OnnxGraphBuilder g, string docString)
    {
        var proto = new ModelProto
        {
            IrVersion = TinaOnnxSchema.IrVersion,
            ProducerName = TinaOnnxSchema.ProducerName,
            ProducerVersion = ProducerVersion,
            ModelVersion = 1,
            DocString = docString,
            Graph = g.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = TinaOnnxSchema.OpsetVersion });
        return proto;
    }

    private static void AddCommonMetadata(ModelProto proto, IReadOnlyList<string> labels, PModelArch arch, string? prompt, string? method, bool headOnly)
    {
        AddMetadata(proto, TinaOnnxSchema.LabelsKey, JsonSerializer.Serialize(labels));
        AddMetadata(proto, TinaOnnxSchema.PromptKey, prompt ?? string.Join(", ", labels));
        AddMetadata(proto, TinaOnnxSchema.ArchKey, arch.ToName());
        if (!string.IsNullOrWhiteSpace(method)) AddMetadata(proto, TinaOnnxSchema.MethodKey, method);
        AddMetadata(proto, TinaOnnxSchema.NormalizationKey, arch == PModelArch.ResNet18 ? ResNet18NormalizationJson : NormalizationJson);
        AddMetadata(proto, TinaOnnxSchema.ResizeKey, TinaOnnxSchema.ResizeJson(TinaOnnxSchema.DefaultResizeMode, arch.InputSize()));
        if (arch == PModelArch.ResNet18)
            AddMetadata(proto, TinaOnnxSchema.BackboneKey, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["name"] = ResNet18Backbone.Name, ["package"] = ResNet18Backbone.PackageId,
                ["sha256"] = Tina.Features.BackboneFeatures.ResNet18.Backbone.Identity, ["image_size"] = ResNet18Backbone.ImageSize, ["included"] = !headOnly,
            }));
        AddMetadata(proto, TinaOnnxSchema.SchemaVersionKey, TinaOnnxSchema.SchemaVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The network before pooling; every initializer and named value gets <paramref name="prefix"/>.</summary>
    private static string Features(OnnxGraphBuilder g, Weights w, string x, string prefix) => w.Arch switch
    {
        PModelArch.Cnn5k => Cnn5kFeatures(g, w, x, prefix),
        PModelArch.ResNet20 => ResNet20Features(g, w, x, prefix),
        _ => throw new ArgumentOutOfRangeException(nameof(w), w.Arch, "No trainable backbone in this architecture."),
    };

    /// <summary>The classifier: logits = pooled · fc.weightᵀ + fc.bias, named <c>{prefix}logits</c>.</summary>
    private static string Head(OnnxGraphBuilder g, Weights w, string pooled, int classes, int featureDim, string prefix)
    {
        var fcWeight = w.Add(g, "fc.weight", [classes, featureDim], prefix);
        var fcBias = w.Add(g, "fc.bias", [classes], prefix);
        return g.Node("Gemm", [pooled, fcWeight, fcBias], $"{prefix}logits", Int("transB", 1));
    }

    /// <summary>True when every member has the same non-classifier tensors (names, shapes and values) as member 0.</summary>
    private static bool SharesBackbone(Weights[] members)
    {
        var trunk = members[0].Names.Where(n => !n.StartsWith("fc.", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        foreach (var m in members.Skip(1))
        {
            var other = m.Names.Where(n => !n.StartsWith("fc.", StringComparison.Ordinal)).ToList();
            if (other.Count != trunk.Count || !other.All(trunk.Contains)) return false;
            foreach (var name in trunk)
            {
                var a = members[0].Tensor(name);
                var b = m.Tensor(name);
                if (!ReferenceEquals(a, b) && (!a.Shape.SequenceEqual(b.Shape) || !a.Data.AsSpan().SequenceEqual(b.Data))) return false;
            }
        }
        return true;
    }

    private static string Cnn5kFeatures(OnnxGraphBuilder g, Weights w, string x, string prefix)
    {
        var h = g.Node("Relu", [Conv(g, x, w.Add(g, "conv1.weight", [16, 3, 3, 3], prefix), null, 3, 2, 1)]);
        return g.Node("Relu", [Conv(g, h, w.Add(g, "conv2.weight", [32, 16, 3, 3], prefix), null, 3, 1, 1)]);
    }

    private static string ResNet20Features(OnnxGraphBuilder g, Weights w, string x, string prefix)
    {
        var h = g.Node("Relu", [ConvBn(g, w, x, "conv1", "bn1", 3, 16, 3, 1, 1, prefix)]);
        int cin = 16;
        foreach (var (stage, cout) in new[] { ("layer1", 16), ("layer2", 32), ("layer3", 64) })
        {
            for (int b = 0; b < 3; b++)
            {
                var p = $"{stage}.{b}";
                int stride = b == 0 && cout != cin ? 2 : 1;
                var a = g.Node("Relu", [ConvBn(g, w, h, $"{p}.conv1", $"{p}.bn1", cin, cout, 3, stride, 1, prefix)]);
                var r = ConvBn(g, w, a, $"{p}.conv2", $"{p}.bn2", cout, cout, 3, 1, 1, prefix);
                var shortcut = stride != 1 || cin != cout
                    ? ConvBn(g, w, h, $"{p}.downsample.0", $"{p}.downsample.1", cin, cout, 1, stride, 0, prefix)
                    : h;
                h = g.Node("Relu", [g.Node("Add", [r, shortcut])], $"{prefix}{p}.out");
                cin = cout;
            }
        }
        return h;
    }

    /// <summary>A bias-free convolution followed by an eval-mode batch norm, folded into one Conv node.</summary>
    private static string ConvBn(OnnxGraphBuilder g, Weights w, string x, string conv, string bn, int cin, int cout, int k, int stride, int pad, string prefix)
    {
        var (weight, bias) = BatchNormFolding.Fold(
            w.Get($"{conv}.weight", [cout, cin, k, k]),
            w.Get($"{bn}.weight", [cout]), w.Get($"{bn}.bias", [cout]),
            w.Get($"{bn}.running_mean", [cout]), w.Get($"{bn}.running_var", [cout]));
        var wName = g.Initializer($"{prefix}{conv}.weight", [cout, cin, k, k], weight);
        var bName = g.Initializer($"{prefix}{conv}.bias", [cout], bias);
        return Conv(g, x, wName, bName, k, stride, pad);
    }

    private static string Conv(OnnxGraphBuilder g, string x, string weight, string? bias, int k, int stride, int pad) =>
        g.Node("Conv", bias is null ? [x, weight] : [x, weight, bias], null,
            Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad),
            Ints("dilations", 1, 1), Int("group", 1));

    /// <summary>The p-Model's state dict with shape checks and a clear error for a missing tensor.</summary>
    private sealed class Weights(Dictionary<string, NamedTensor> stateDict, PModelArch arch, string? member = null)
    {
        public PModelArch Arch => arch;

        public IEnumerable<string> Names => stateDict.Keys;

        public NamedTensor Tensor(string name) => stateDict[name];

        private string What => member is null ? $"the {arch.ToName()} p-Model" : $"{member} ({arch.ToName()})";

        public NamedTensor Get(string name, long[] shape)
        {
            if (!stateDict.TryGetValue(name, out var t))
                throw new TinaException($"Cannot export {What}: tensor '{name}' is missing from its weights.");
            if (!t.Shape.SequenceEqual(shape))
                throw new TinaException($"Cannot export {What}: tensor '{name}' has shape [{string.Join(",", t.Shape)}], expected [{string.Join(",", shape)}].");
            return t;
        }

        /// <summary>Adds tensor <paramref name="name"/> as the initializer <c>{prefix}{name}</c>.</summary>
        public string Add(OnnxGraphBuilder g, string name, long[] shape, string prefix) => g.Initializer(prefix + name, shape, Get(name, shape).Data);
    }
}
