using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.IO;
using Tina.MLNet.Onnx.Proto;
using static Tina.MLNet.Export.OnnxGraphBuilder;

namespace Tina.MLNet;

/// <summary>
/// ML.NET's pretrained ImageNet ResNet-18, the frozen backbone of the <c>resnet18</c> p-Models, read from the files of
/// the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c> (which copies <c>DnnImageModels/</c> into every
/// app's output folder; nothing is downloaded). The package's graph takes one 224×224 BGR image of pixel values 0–255
/// minus a mean image and ends in a fixed 7×7 average pool; this class re-expresses it for batches: its batch norms are
/// folded into the convolutions, the last pool is global, and the package's preprocessing (RGB → BGR, minus the same
/// mean image) is part of the graph, so it reads <c>[N, 3, 224, 224]</c> RGB planes in [0, 1], like every Tina
/// classifier, and yields 512 features per image. The features equal those of ML.NET's <c>DnnFeaturizeImage</c>
/// (ResNet18) for the same 224×224 pixels, up to float rounding.
/// </summary>
public sealed class ResNet18Backbone
{
    /// <summary>The backbone's name, as recorded in model cards and ONNX metadata.</summary>
    public const string Name = "resnet18";

    /// <summary>Side of the square images the backbone reads: the package's own input size.</summary>
    public const int ImageSize = 224;

    /// <summary>Number of features per image (the global average pool of the last stage).</summary>
    public const int FeatureDim = 512;

    /// <summary>The NuGet package the model files come from.</summary>
    public const string PackageId = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>The folder the package copies into an app's output folder.</summary>
    public const string ModelFolderName = "DnnImageModels";

    private const string GraphInput = "Input247";
    private const string Prefix = "backbone.";
    private static readonly ConcurrentDictionary<string, Lazy<ResNet18Backbone>> Loaded = new(StringComparer.Ordinal);

    private readonly TensorProto[] _initializers;
    private readonly NodeProto[] _nodes;
    private readonly string _output;

    private ResNet18Backbone(string modelPath, string identity, TensorProto[] initializers, NodeProto[] nodes, string output, double flops, float[] channelMean)
    {
        ModelPath = modelPath;
        Identity = identity;
        _initializers = initializers;
        _nodes = nodes;
        _output = output;
        ForwardFlops = flops;
        _channelMean = channelMean;
    }

    private readonly float[] _channelMean;

    /// <summary>Floating-point operations of one 224×224 image through the convolutions (2 per multiply-add), from the graph's shapes.</summary>
    public double ForwardFlops { get; }

    /// <summary>The package's <c>DnnImageModels</c> folder next to the running app (where its build props copy it).</summary>
    public static string DefaultDirectory => Path.Combine(AppContext.BaseDirectory, ModelFolderName);

    /// <summary>The <c>ResNet18.onnx</c> file read.</summary>
    public string ModelPath { get; }

    /// <summary>The <c>sha256:…</c> identity of <c>ResNet18.onnx</c>: which backbone a head was trained on.</summary>
    public string Identity { get; }

    /// <summary>
    /// Loads and converts the backbone from <paramref name="directory"/> (a <c>DnnImageModels</c> folder holding
    /// <c>ResNet18Onnx/ResNet18.onnx</c> and <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>; default
    /// <see cref="DefaultDirectory"/>). Each folder is read once per process; later calls return the same instance.
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">A model file is missing (the message names the package that brings it).</exception>
    /// <exception cref="CorruptFileException">A model file is not the package's ResNet-18 (unreadable, or another graph).</exception>
    public static ResNet18Backbone Load(string? directory = null)
    {
        var dir = Path.GetFullPath(directory ?? DefaultDirectory);
        var lazy = Loaded.GetOrAdd(dir, d => new Lazy<ResNet18Backbone>(() => Read(d), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch (Exception e) when (e is ITinaError)
        {
            Loaded.TryRemove(new KeyValuePair<string, Lazy<ResNet18Backbone>>(dir, lazy)); // a fixed file can be read later
            throw;
        }
    }

    /// <summary>
    /// Appends the backbone to <paramref name="g"/>: reads <paramref name="image"/> (RGB planes in [0, 1],
    /// [N, 3, 224, 224]) and returns the name of its features, float [N, 512]. The weights are shared with every other
    /// graph built from this instance (protobuf messages are immutable once built), so exporting a classifier copies no
    /// weights until it is serialised.
    /// </summary>
    internal string AppendTo(OnnxGraphBuilder g, string image, int size = ImageSize)
    {
        foreach (var t in _initializers) g.AddInitializer(t);
        var scaled = g.Node("Mul", [image, Prefix + "pixel_scale"], Prefix + "pixels");
        var bgr = g.Node("Gather", [scaled, Prefix + "bgr_order"], Prefix + "bgr", Int("axis", 1));
        // At the package's 224 pixels the package's mean image; at other sizes (input-size studies only) its per-channel mean.
        var mean = size == ImageSize ? Prefix + "mean_image" : g.Initializer(Prefix + "channel_mean", [1, 3, 1, 1], _channelMean);
        g.Node("Sub", [bgr, mean], Prefix + GraphInput);
        foreach (var n in _nodes) g.AddNode(n);
        return g.Node("Flatten", [_output], Prefix + "features", Int("axis", 1));
    }

    /// <summary>
    /// An ONNX model that maps images to backbone features: input <c>image</c> float [N, 3, S, S] (RGB planes in
    /// [0, 1], S = <paramref name="inputSize"/>), resized bilinearly to 224×224 inside the graph when S differs, output
    /// <c>features</c> float [N, 512]. Used to compute the features that heads are trained and evaluated on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <param name="inputSize">Side of the images given.</param>
    /// <param name="backboneSize">Side the images are resized to for the backbone: 224, the package's size (the default
    /// and what every classifier uses), or another multiple of 32 for input-size studies (then the package's mean image
    /// is replaced by its per-channel mean; sizes such as 112 fail on a residual addition of the converted graph).</param>
    public byte[] FeatureExtractorModel(int inputSize, int backboneSize = ImageSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(backboneSize);
        var g = new OnnxGraphBuilder("tina_resnet18_features");
        var image = g.Input("image", $"Images, float [N,3,{inputSize},{inputSize}]: RGB planes, values in [0,1].",
            TensorProto.Types.DataType.Float, Dim("N"), Dim(3), Dim(inputSize), Dim(inputSize));
        if (inputSize != backboneSize)
        {
            float s = (float)backboneSize / inputSize;
            image = g.Node("Resize", [image, "", g.Initializer("resize.scales", [4], [1f, 1f, s, s])], "resized",
                String("mode", "linear"), String("coordinate_transformation_mode", "half_pixel"));
        }
        var features = AppendTo(g, image, backboneSize);
        var output = g.Node("Identity", [features], "features");
        g.Output(output, "Backbone features, float [N,512].", TensorProto.Types.DataType.Float, Dim("N"), Dim(FeatureDim));
        var model = new ModelProto { IrVersion = TinaOnnxSchema.IrVersion, ProducerName = TinaOnnxSchema.ProducerName, Graph = g.Graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = TinaOnnxSchema.OpsetVersion });
        return model.ToByteArray();
    }

    private static ResNet18Backbone Read(string directory)
    {
        var modelPath = Path.Combine(directory, "ResNet18Onnx", "ResNet18.onnx");
        var prepPath = Path.Combine(directory, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        var hint = $"The ResNet-18 backbone comes from the NuGet package {PackageId}, whose build props copy {ModelFolderName}/ next to the app; restore and rebuild, or point Tina at a folder that holds it.";
        foreach (var p in new[] { modelPath, prepPath })
            if (!File.Exists(p)) throw new TinaFileNotFoundException(p, hint);
        var bytes = File.ReadAllBytes(modelPath);
        var model = ParseModel(bytes, modelPath);
        var prep = ParseModel(File.ReadAllBytes(prepPath), prepPath);
        var mean = prep.Graph.Initializer.FirstOrDefault(t => t.Name == "MeanImage")
            ?? throw new CorruptFileException(prepPath, "no 'MeanImage' tensor: not the package's ResNet preprocessing model");
        var meanData = FloatData(mean, prepPath);
        if (!mean.Dims.SequenceEqual([1L, 3, ImageSize, ImageSize]))
            throw new CorruptFileException(prepPath, $"'MeanImage' has shape [{string.Join(",", mean.Dims)}], expected [1,3,{ImageSize},{ImageSize}]");

        var initializers = new List<TensorProto>
        {
            RawFloat(Prefix + "pixel_scale", [1], [255f]),
            RawInt64(Prefix + "bgr_order", [3], [2, 1, 0]),
            RawFloat(Prefix + "mean_image", [1, 3, ImageSize, ImageSize], meanData),
        };
        var (nodes, output, flops) = Convert(model.Graph, initializers, modelPath);
        var channelMean = Enumerable.Range(0, 3).Select(c => (float)meanData.AsSpan(c * ImageSize * ImageSize, ImageSize * ImageSize).ToArray().Average(v => (double)v)).ToArray();
        return new ResNet18Backbone(modelPath, ContentHash.Of(bytes), initializers.ToArray(), nodes, output, flops, channelMean);
    }

    private static ModelProto ParseModel(byte[] bytes, string path)
    {
        try
        {
            var m = ModelProto.Parser.ParseFrom(bytes);
            if (m.Graph is null || m.Graph.Node.Count == 0) throw new CorruptFileException(path, "the ONNX model has no graph");
            return m;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CorruptFileException(path, $"not an ONNX model ({e.Message})", e);
        }
    }

    /// <summary>
    /// The package's nodes with every batch norm folded into the convolution before it and the final 7×7 average pool
    /// made global; names get <see cref="Prefix"/>. Anything but Conv, BatchNormalization, Relu, MaxPool, Add and the
    /// last AveragePool means the file is not the graph this code knows.
    /// </summary>
    private static (NodeProto[] Nodes, string Output, double Flops) Convert(GraphProto graph, List<TensorProto> initializers, string path)
    {
        // Spatial side of every value at 224 pixels, to count the convolutions' operations.
        var side = new Dictionary<string, long>(StringComparer.Ordinal) { [GraphInput] = ImageSize };
        double flops = 0;
        static long Out(long h, NodeProto n)
        {
            long k = n.Attribute.First(a => a.Name == "kernel_shape").Ints[0];
            long stride = n.Attribute.FirstOrDefault(a => a.Name == "strides")?.Ints[0] ?? 1;
            var pads = n.Attribute.FirstOrDefault(a => a.Name == "pads")?.Ints;
            long padding = pads is { Count: 4 } ? pads[0] + pads[2] : 0;
            return (h + padding - k) / stride + 1;
        }
        var input = graph.Input.FirstOrDefault(i => i.Name == GraphInput);
        var dims = input?.Type?.TensorType?.Shape?.Dim.Select(d => d.DimValue).ToArray();
        if (dims is null || !dims.SequenceEqual([1L, 3, ImageSize, ImageSize]))
            throw new CorruptFileException(path, $"expected the input '{GraphInput}' [1,3,{ImageSize},{ImageSize}] of ML.NET's ResNet-18");
        var weights = graph.Initializer.ToDictionary(t => t.Name, t => t, StringComparer.Ordinal);
        var consumers = graph.Node.SelectMany(n => n.Input).GroupBy(x => x).ToDictionary(x => x.Key, x => x.Count(), StringComparer.Ordinal);
        var output = graph.Output.Count == 1 ? graph.Output[0].Name : throw new CorruptFileException(path, "expected one graph output");
        var nodes = new List<NodeProto>();
        var folded = new HashSet<NodeProto>();
        string pooled = "";
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var n = graph.Node[i];
            if (folded.Contains(n)) continue;
            switch (n.OpType)
            {
                case "Conv":
                {
                    var bn = graph.Node.Skip(i + 1).FirstOrDefault(m => m.OpType == "BatchNormalization" && m.Input[0] == n.Output[0]);
                    if (bn is null || consumers.GetValueOrDefault(n.Output[0]) != 1 || n.Input.Count != 2)
                        throw new CorruptFileException(path, $"convolution {n.Name} is not followed by its own batch norm");
                    folded.Add(bn);
                    var w = Weight(weights, n.Input[1], path);
                    var eps = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
                    var (fw, fb) = BatchNormFolding.Fold(w, Weight(weights, bn.Input[1], path), Weight(weights, bn.Input[2], path),
                        Weight(weights, bn.Input[3], path), Weight(weights, bn.Input[4], path), eps);
                    string wName = Prefix + n.Input[1], bName = Prefix + n.Input[1] + ".bias";
                    initializers.Add(RawFloat(wName, w.Shape, fw));
                    initializers.Add(RawFloat(bName, [w.Shape[0]], fb));
                    nodes.Add(Copy(n, [Prefix + n.Input[0], wName, bName], Prefix + bn.Output[0], keep: ["kernel_shape", "strides", "pads", "dilations", "group"]));
                    long h = side[bn.Output[0]] = Out(side.GetValueOrDefault(n.Input[0], ImageSize), n);
                    flops += 2.0 * w.Shape.Aggregate(1L, (a, b) => a * b) * h * h;
                    break;
                }
                case "Relu" or "Add":
                    nodes.Add(Copy(n, n.Input.Select(x => Prefix + x).ToArray(), Prefix + n.Output[0], keep: []));
                    side[n.Output[0]] = side.GetValueOrDefault(n.Input[0], ImageSize);
                    break;
                case "MaxPool":
                    nodes.Add(Copy(n, [Prefix + n.Input[0]], Prefix + n.Output[0], keep: ["kernel_shape", "strides", "pads"]));
                    side[n.Output[0]] = Out(side.GetValueOrDefault(n.Input[0], ImageSize), n);
                    break;
                case "AveragePool" when n.Output[0] == output:
                    pooled = Prefix + n.Output[0];
                    nodes.Add(Copy(n, [Prefix + n.Input[0]], pooled, keep: [], opType: "GlobalAveragePool"));
                    break;
                default:
                    throw new CorruptFileException(path, $"unexpected {n.OpType} node {n.Name}: not the graph of ML.NET's ResNet-18");
            }
        }
        if (pooled.Length == 0) throw new CorruptFileException(path, "no final average pool: not the graph of ML.NET's ResNet-18");
        return (nodes.ToArray(), pooled, flops);
    }

    private static NodeProto Copy(NodeProto n, string[] inputs, string output, string[] keep, string? opType = null)
    {
        var copy = new NodeProto { OpType = opType ?? n.OpType, Name = Prefix + n.Name };
        copy.Input.AddRange(inputs);
        copy.Output.Add(output);
        copy.Attribute.AddRange(n.Attribute.Where(a => keep.Contains(a.Name)).Select(a => a.Clone()));
        return copy;
    }

    private static NamedTensor Weight(Dictionary<string, TensorProto> weights, string name, string path) =>
        weights.TryGetValue(name, out var t) ? new NamedTensor(t.Dims.ToArray(), FloatData(t, path))
            : throw new CorruptFileException(path, $"tensor '{name}' is missing");

    private static float[] FloatData(TensorProto t, string path)
    {
        if (t.DataType != (int)TensorProto.Types.DataType.Float) throw new CorruptFileException(path, $"tensor '{t.Name}' is not float32");
        long count = t.Dims.Aggregate(1L, (a, b) => a * b);
        float[] data = t.FloatData.Count > 0 ? t.FloatData.ToArray() : MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        if (data.Length != count) throw new CorruptFileException(path, $"tensor '{t.Name}' holds {data.Length} values for shape [{string.Join(",", t.Dims)}]");
        return data;
    }

    private static TensorProto RawFloat(string name, long[] shape, float[] data)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        t.Dims.AddRange(shape);
        return t;
    }

    private static TensorProto RawInt64(string name, long[] shape, long[] data)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        t.Dims.AddRange(shape);
        return t;
    }
}
