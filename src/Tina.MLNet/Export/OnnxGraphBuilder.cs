using System.Runtime.InteropServices;
using Google.Protobuf;
using Tina.MLNet.Onnx.Proto;

namespace Tina.MLNet.Export;

/// <summary>
/// Assembles an ONNX <see cref="GraphProto"/> node by node: float initializers stored as raw little-endian bytes,
/// nodes with typed attributes, and typed graph inputs/outputs with fixed or symbolic dimensions. Checks that every
/// value name is defined once, so a mistake surfaces here rather than as an ONNX Runtime load error.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _defined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _nodeCounts = new(StringComparer.Ordinal);

    /// <summary>Starts an empty graph called <paramref name="name"/>.</summary>
    public OnnxGraphBuilder(string name) => Graph = new GraphProto { Name = name };

    /// <summary>The graph built so far.</summary>
    public GraphProto Graph { get; }

    /// <summary>Adds a float32 constant tensor and returns its name.</summary>
    public string Initializer(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> data)
    {
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != data.Length)
            throw new ArgumentException($"Initializer '{name}' has {data.Length} values but shape [{string.Join(",", shape.ToArray())}].");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian; big-endian hosts are not supported.");
        Define(name);
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        foreach (var d in shape) t.Dims.Add(d);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data));
        Graph.Initializer.Add(t);
        return name;
    }

    /// <summary>
    /// Adds an initializer built elsewhere (e.g. a backbone's weights, shared by many graphs: protobuf messages hold no
    /// parent, so one instance can sit in several graphs) and returns its name.
    /// </summary>
    public string AddInitializer(TensorProto tensor)
    {
        Define(tensor.Name);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node built elsewhere, checking that its inputs are defined and defining its outputs.</summary>
    public void AddNode(NodeProto node)
    {
        foreach (var i in node.Input)
            if (i.Length > 0 && !_defined.Contains(i))
                throw new InvalidOperationException($"Node {node.Name} reads '{i}', which is not defined yet.");
        foreach (var o in node.Output) Define(o);
        Graph.Node.Add(node);
    }

    /// <summary>
    /// Adds a node of <paramref name="opType"/> reading <paramref name="inputs"/> and writing one output named
    /// <paramref name="output"/> (or a generated name); returns the output name.
    /// </summary>
    public string Node(string opType, IReadOnlyList<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        var n = _nodeCounts.TryGetValue(opType, out var c) ? c : 0;
        _nodeCounts[opType] = n + 1;
        var nodeName = $"{opType}_{n}";
        output ??= nodeName;
        foreach (var i in inputs)
            if (i.Length > 0 && !_defined.Contains(i))
                throw new InvalidOperationException($"Node {nodeName} reads '{i}', which is not defined yet.");
        Define(output);
        var node = new NodeProto { OpType = opType, Name = nodeName };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return output;
    }

    /// <summary>Declares a graph input of element type <paramref name="type"/> and the given dimensions, described by <paramref name="doc"/>.</summary>
    public string Input(string name, string doc, TensorProto.Types.DataType type, params TensorShapeProto.Types.Dimension[] dims)
    {
        Define(name);
        Graph.Input.Add(ValueInfo(name, doc, type, dims));
        return name;
    }

    /// <summary>Declares the already computed value <paramref name="name"/> as a graph output, described by <paramref name="doc"/>.</summary>
    public void Output(string name, string doc, TensorProto.Types.DataType type, params TensorShapeProto.Types.Dimension[] dims)
    {
        if (!_defined.Contains(name)) throw new InvalidOperationException($"Graph output '{name}' is not computed by any node.");
        Graph.Output.Add(ValueInfo(name, doc, type, dims));
    }

    /// <summary>A fixed dimension.</summary>
    public static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    /// <summary>A symbolic dimension (e.g. the batch size <c>N</c>).</summary>
    public static TensorShapeProto.Types.Dimension Dim(string parameter) => new() { DimParam = parameter };

    /// <summary>An <c>INT</c> attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A <c>STRING</c> attribute.</summary>
    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>An <c>INTS</c> attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private void Define(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("ONNX value names must not be empty.");
        if (!_defined.Add(name)) throw new InvalidOperationException($"ONNX value '{name}' is defined twice.");
    }

    /// <summary>A typed value description; no dimensions declare a scalar (rank 0).</summary>
    internal static ValueInfoProto ValueInfo(string name, string doc, TensorProto.Types.DataType type, TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
