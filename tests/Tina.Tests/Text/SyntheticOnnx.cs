using Google.Protobuf;
using Tina.MLNet.Onnx.Proto;

namespace Tina.Tests.Text;

/// <summary>Builds tiny stand-in ONNX models (for CLIP's towers) with the project's own ONNX protobuf types.</summary>
internal static class SyntheticOnnx
{
    /// <summary>A typed tensor value; a string dimension is symbolic (dynamic), an int fixed.</summary>
    public static ValueInfoProto Value(string name, TensorProto.Types.DataType type, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string p ? new TensorShapeProto.Types.Dimension { DimParam = p } : new TensorShapeProto.Types.Dimension { DimValue = (int)dim });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } } };
    }

    /// <summary>A node of <paramref name="op"/>; <paramref name="castTo"/> sets Cast's "to", <paramref name="axis"/> an "axis" attribute.</summary>
    public static NodeProto Node(string op, string[] inputs, string output, long? castTo = null, long? axis = null)
    {
        var node = new NodeProto { OpType = op, Name = output + "_node" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        if (castTo is { } to) node.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = to });
        if (axis is { } a) node.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = a });
        return node;
    }

    /// <summary>A float initializer of shape <paramref name="dims"/>.</summary>
    public static TensorProto Initializer(string name, float[] data, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(data);
        return t;
    }

    /// <summary>Writes the graph as an opset-13 model in a fresh temporary folder and returns its path.</summary>
    public static string Save(GraphProto graph, string fileName = "model.onnx")
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "tina-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        var path = Path.Combine(TestData.TempDir(), fileName);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
