using System.Text.Json;
using Google.Protobuf;
using Tina.MLNet.Errors;
using Tina.MLNet.Onnx.Proto;

namespace Tina.MLNet.Export;

/// <summary>
/// Reads the description (labels, architecture, prompt…) of an ONNX file written by Tina's exporter (<c>OnnxExporter</c>, Tina.MLNet.Generation), by
/// parsing it with the same protobuf classes, and checks that its input and outputs follow <see cref="TinaOnnxSchema"/>.
/// </summary>
public static class TinaOnnxModelReader
{
    /// <summary>Reads the model description of the ONNX file at <paramref name="path"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not an ONNX model.</exception>
    /// <exception cref="InvalidModelException">The file is an ONNX model but not a Tina classifier (metadata or signature missing).</exception>
    public static TinaOnnxModelInfo Read(string path)
    {
        if (!File.Exists(path))
            throw new TinaFileNotFoundException(path, "Expected an ONNX model written by 'tina export' (or a .zip ML.NET model).");
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads the model description from ONNX bytes; <paramref name="source"/> names them in error messages.</summary>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    /// <exception cref="InvalidModelException">An ONNX model, but not a Tina classifier.</exception>
    public static TinaOnnxModelInfo Read(byte[] onnxBytes, string source) => Describe(Parse(onnxBytes, source), source);

    /// <summary>Parses ONNX bytes into a <see cref="ModelProto"/>; checks it looks like an ONNX model (IR version, opset, graph).</summary>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    internal static ModelProto Parse(byte[] onnxBytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(onnxBytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new CorruptFileException(source, $"not an ONNX model ({e.Message})", e);
        }
        if (!model.HasIrVersion || model.IrVersion <= 0 || model.Graph is null || model.OpsetImport.Count == 0)
            throw new CorruptFileException(source, "not an ONNX model (no IR version, operator set or graph)");
        return model;
    }

    /// <summary>The Tina description of a parsed model.</summary>
    /// <exception cref="InvalidModelException">The model lacks Tina's metadata, or its signature is not Tina's.</exception>
    internal static TinaOnnxModelInfo Describe(ModelProto model, string source)
    {
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in model.MetadataProps) meta[p.Key] = p.Value;
        if (!meta.TryGetValue(TinaOnnxSchema.LabelsKey, out var labelsJson) || !meta.TryGetValue(TinaOnnxSchema.ArchKey, out var archName))
            throw new InvalidModelException($"{source} is an ONNX model but not a Tina classifier: its metadata lacks '{TinaOnnxSchema.LabelsKey}' and '{TinaOnnxSchema.ArchKey}'. Export one with 'tina export'.");

        string[] labels;
        try
        {
            labels = JsonSerializer.Deserialize<string[]>(labelsJson) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.LabelsKey}' is not a JSON array of strings ({e.Message}).", e);
        }
        if (labels.Length == 0 || labels.Any(string.IsNullOrEmpty))
            throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.LabelsKey}' must list at least one non-empty label.");
        var arch = archName.Trim().ToLowerInvariant();
        if (arch.Length == 0 || !arch.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.ArchKey}' must name an architecture (e.g. cnn5k); got '{archName}'.");

        var (headOnly, imageSize) = CheckSignature(model.Graph, labels.Length, source);
        string? backbone = null;
        if (meta.TryGetValue(TinaOnnxSchema.BackboneKey, out var backboneJson))
        {
            try
            {
                using var doc = JsonDocument.Parse(backboneJson);
                backbone = doc.RootElement.GetProperty("sha256").GetString();
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.BackboneKey}' is not a JSON object with the backbone's 'sha256' ({e.Message}).", e);
            }
        }
        if (headOnly && backbone is null)
            throw new InvalidModelException($"{source}: a head-only classifier (input '{TinaOnnxSchema.FeaturesInputName}') must name its backbone in metadata '{TinaOnnxSchema.BackboneKey}'.");
        int ensembleSize = 1;
        if (meta.TryGetValue(TinaOnnxSchema.EnsembleSizeKey, out var sizeText)
            && (!int.TryParse(sizeText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ensembleSize) || ensembleSize < 1))
            throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.EnsembleSizeKey}' must be a positive integer; got '{sizeText}'.");
        long[]? seeds = null;
        if (meta.TryGetValue(TinaOnnxSchema.EnsembleSeedsKey, out var seedsJson))
        {
            try
            {
                seeds = JsonSerializer.Deserialize<long[]>(seedsJson);
            }
            catch (JsonException e)
            {
                throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.EnsembleSeedsKey}' is not a JSON array of integers ({e.Message}).", e);
            }
            if (seeds is null || seeds.Length != ensembleSize)
                throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.EnsembleSeedsKey}' lists {seeds?.Length ?? 0} seeds for an ensemble of {ensembleSize}.");
        }
        long opset = model.OpsetImport.Where(o => string.IsNullOrEmpty(o.Domain)).Select(o => o.Version).DefaultIfEmpty(0).Max();
        return new TinaOnnxModelInfo(
            labels,
            arch,
            meta.GetValueOrDefault(TinaOnnxSchema.PromptKey) ?? string.Join(", ", labels),
            meta.GetValueOrDefault(TinaOnnxSchema.MethodKey),
            meta.GetValueOrDefault(TinaOnnxSchema.NormalizationKey),
            model.ProducerName,
            model.ProducerVersion,
            model.IrVersion,
            opset)
        {
            EnsembleSize = ensembleSize,
            EnsembleSeeds = seeds,
            ResizeMode = ResizeModeOf(model, source),
            ImageSize = imageSize,
            HeadOnly = headOnly,
            Backbone = backbone,
            SchemaVersion = meta.TryGetValue(TinaOnnxSchema.SchemaVersionKey, out var v)
                && int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version) && version >= 1
                ? version
                : meta.ContainsKey(TinaOnnxSchema.SchemaVersionKey)
                    ? throw new InvalidModelException($"{source}: metadata '{TinaOnnxSchema.SchemaVersionKey}' must be a positive integer; got '{v}'.")
                    : 1,
        };
    }

    private static string ResizeModeOf(ModelProto model, string source)
    {
        var mode = OnnxResizePolicy.ResizeMode(model);
        OnnxResizePolicy.ParseMode(mode, source); // an unknown mode is an error here, not at the first image
        return mode;
    }

    /// <summary>Checks the input and outputs; returns whether the input is backbone features (a head alone) and the image size read.</summary>
    private static (bool HeadOnly, int ImageSize) CheckSignature(GraphProto graph, int classes, string source)
    {
        var input = graph.Input.FirstOrDefault(i => i.Name == TinaOnnxSchema.InputName);
        var features = graph.Input.FirstOrDefault(i => i.Name == TinaOnnxSchema.FeaturesInputName);
        var scores = graph.Output.FirstOrDefault(o => o.Name == TinaOnnxSchema.ScoresName);
        var index = graph.Output.FirstOrDefault(o => o.Name == TinaOnnxSchema.ClassIndexName);
        if ((input ?? features) is null || scores is null || index is null)
            throw new InvalidModelException($"{source} is not a Tina classifier: expected input '{TinaOnnxSchema.InputName}' (or '{TinaOnnxSchema.FeaturesInputName}' for a head alone) and outputs '{TinaOnnxSchema.ScoresName}', '{TinaOnnxSchema.ClassIndexName}'.");
        var dims = scores.Type?.TensorType?.Shape?.Dim;
        if (dims is { Count: 2 } && dims[1].HasDimValue && dims[1].DimValue != classes)
            throw new InvalidModelException($"{source}: output '{TinaOnnxSchema.ScoresName}' has {dims[1].DimValue} classes but the metadata lists {classes} labels.");
        if (input is null) return (true, ResNet18Backbone.ImageSize);
        var imageDims = input.Type?.TensorType?.Shape?.Dim;
        if (imageDims is not { Count: 4 } || !imageDims[2].HasDimValue || imageDims[2].DimValue != imageDims[3].DimValue
            || imageDims[2].DimValue is < 1 or > 4096 || imageDims[1].DimValue != 3)
            throw new InvalidModelException($"{source}: input '{TinaOnnxSchema.InputName}' must be float [N,3,S,S] with a fixed size S.");
        return (false, (int)imageDims[2].DimValue);
    }
}
