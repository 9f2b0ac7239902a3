using Tina.Generation;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.MLNet.Generation;

/// <summary>
/// The model of a project made by <c>tina new</c>: the classifier's ONNX bytes, the ML.NET model built from them
/// (<see cref="TinaMLNetModel.InMemoryImageModelBytes"/>, written as <c>NAME.mlnet</c>), the SHA-256 of the ONNX bytes
/// and, for a generated model, the id of the generator's weights (both recorded in <c>NAME.tina.json</c> so a
/// regeneration can be checked). Made by <see cref="Generate"/> (method tina) or <see cref="SelectClassifier"/>
/// (method classifier-selection).
/// </summary>
public sealed class TinaProjectModel
{
    private TinaProjectModel(byte[] onnx, string? generatorId)
    {
        Onnx = onnx;
        GeneratorId = generatorId;
        Info = TinaOnnxModelReader.Read(onnx, "generated model");
        MLNetModel = TinaMLNetModel.InMemoryImageModelBytes(onnx);
        OnnxSha256 = ContentHash.Of(onnx);
    }

    /// <summary>The classifier as ONNX bytes.</summary>
    public byte[] Onnx { get; }

    /// <summary>The ML.NET zip of the chain over in-memory images that applies <see cref="Onnx"/>.</summary>
    public byte[] MLNetModel { get; }

    /// <summary>SHA-256 (hex) of <see cref="Onnx"/>.</summary>
    public string OnnxSha256 { get; }

    /// <summary>The generator's <see cref="TinaGenerator.WeightsSha256"/> for a generated model; null for classifier selection.</summary>
    public string? GeneratorId { get; }

    /// <summary>The labels, architecture and method recorded in <see cref="Onnx"/>.</summary>
    public TinaOnnxModelInfo Info { get; }

    /// <summary>Generates the classifier of <paramref name="classes"/> with <paramref name="generator"/> (<see cref="TinaGeneratedClassifier.Generate(TinaGenerator, IReadOnlyList{string}, GenerateOptions?, ClassifierFormat)"/>).</summary>
    /// <exception cref="InvalidPromptException">Too many classes for the generator, or a class the encoder cannot encode.</exception>
    public static TinaProjectModel Generate(TinaGenerator generator, IReadOnlyList<string> classes, GenerateOptions options, ClassifierFormat format)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return new(TinaGeneratedClassifier.Generate(generator, classes, options, format).Onnx, generator.WeightsSha256);
    }

    /// <summary>The classifier of <paramref name="task"/> selected from <paramref name="generic"/>'s rows (<see cref="ClassifierSelection"/>), exported whole or as the head alone.</summary>
    public static TinaProjectModel SelectClassifier(GenericModel generic, PersonalizationTask task, ClassifierFormat format)
    {
        ArgumentNullException.ThrowIfNull(task);
        var pmodel = ClassifierSelection.Create(generic, task);
        const string method = "classifier-selection";
        return new(format == ClassifierFormat.Head ? OnnxExporter.ExportHead(new PModelEnsemble([pmodel]), task.Prompt, method)
            : OnnxExporter.Export(pmodel, task.Prompt, method), null);
    }
}
