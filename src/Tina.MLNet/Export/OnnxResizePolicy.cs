using System.Globalization;
using Google.Protobuf;
using Tina.MLNet.Errors;
using Tina.MLNet.Onnx.Proto;

namespace Tina.MLNet.Export;

/// <summary>
/// The resize policy of a Tina ONNX classifier (<see cref="TinaOnnxSchema.ResizeKey"/>): how an image that is not
/// 32×32 is brought to the input size. The exporter records ML.NET's default (<c>iso-crop</c>); an ML.NET pipeline
/// built with another <c>ResizingKind</c> records its own in the model it embeds, so a zip says how it resizes.
/// </summary>
/// <remarks>
/// The embedded model keeps the exported outputs (<c>scores</c> [N, C], <c>class_index</c> [N]): ML.NET 5's
/// OnnxTransformer cannot read a rank-0 ONNX output (its scalar getter enumerates the value as a sequence and throws
/// ArgumentNullException), so the one-element outputs stay vectors in ML.NET.
/// </remarks>
internal static class OnnxResizePolicy
{
    /// <summary>
    /// The bytes of <paramref name="model"/> with <paramref name="resizeMode"/> recorded as its resize policy for
    /// <paramref name="imageSize"/>-pixel images: <paramref name="bytes"/> themselves when the model already records it
    /// (no copy of a large model's weights).
    /// </summary>
    public static byte[] WithMode(ModelProto model, byte[] bytes, string resizeMode, int imageSize)
    {
        var json = TinaOnnxSchema.ResizeJson(resizeMode, imageSize);
        if (model.MetadataProps.FirstOrDefault(p => p.Key == TinaOnnxSchema.ResizeKey)?.Value == json) return bytes;
        var copy = model.Clone();
        var existing = copy.MetadataProps.FirstOrDefault(p => p.Key == TinaOnnxSchema.ResizeKey);
        if (existing is not null) existing.Value = json;
        else copy.MetadataProps.Add(new StringStringEntryProto { Key = TinaOnnxSchema.ResizeKey, Value = json });
        return copy.ToByteArray();
    }

    /// <summary>The resize mode recorded in <paramref name="model"/>'s metadata, or the exporter's default when absent.</summary>
    public static string ResizeMode(ModelProto model)
    {
        var json = model.MetadataProps.FirstOrDefault(p => p.Key == TinaOnnxSchema.ResizeKey)?.Value;
        if (json is null) return TinaOnnxSchema.DefaultResizeMode;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("mode", out var m) && m.GetString() is { } s ? s : TinaOnnxSchema.DefaultResizeMode;
        }
        catch (System.Text.Json.JsonException)
        {
            return TinaOnnxSchema.DefaultResizeMode;
        }
    }

    /// <summary>The mode name of an ML.NET resizing kind, as written to <see cref="TinaOnnxSchema.ResizeKey"/>.</summary>
    public static string ModeName(Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind kind) => kind switch
    {
        Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoCrop => "iso-crop",
        Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoPad => "iso-pad",
        Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill => "fill",
        _ => kind.ToString().ToLower(CultureInfo.InvariantCulture),
    };

    /// <summary>The ML.NET resizing kind of a mode name written by <see cref="ModeName"/>.</summary>
    /// <exception cref="InvalidModelException">Unknown mode.</exception>
    public static Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind ParseMode(string mode, string source) => mode switch
    {
        "iso-crop" => Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoCrop,
        "iso-pad" => Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.IsoPad,
        "fill" => Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind.Fill,
        _ => throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.ResizeKey}' names an unknown resize mode '{mode}' (known: iso-crop, iso-pad, fill)."),
    };
}
