using Microsoft.ML.Transforms.Image;
using Tina.MLNet.Export;
using Tina.PModels;

namespace Tina.MLNet.MLNet;

/// <summary>
/// Options of <see cref="TinaClassifierEstimator"/>: which column holds the image paths, where the images are, how the
/// outputs are named, and the model — either the bytes of an ONNX file exported by Tina or a <see cref="PModels.PModel"/>
/// (exported on the fly). Exactly one of <see cref="OnnxModel"/> and <see cref="PModel"/> must be set.
/// </summary>
public sealed class TinaClassifierOptions
{
    /// <summary>Default name of the input column holding image file paths.</summary>
    public const string DefaultImagePathColumnName = "ImagePath";

    /// <summary>Default name of the predicted-label output column.</summary>
    public const string DefaultPredictedLabelColumnName = "PredictedLabel";

    /// <summary>Default name of the score-vector output column.</summary>
    public const string DefaultScoreColumnName = "Score";

    /// <summary>Default name of the class-index output column.</summary>
    public const string DefaultClassIndexColumnName = "ClassIndex";

    /// <summary>Input column of type text with the path of each image file (relative to <see cref="ImageFolder"/> if set).</summary>
    public string ImagePathColumnName { get; set; } = DefaultImagePathColumnName;

    /// <summary>Folder the paths in <see cref="ImagePathColumnName"/> are relative to; null for paths used as they are.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>
    /// Output column with the predicted label: a text vector with one element (the ONNX outputs keep their batch
    /// dimension of 1 in ML.NET; declare <c>string[]</c> in a prediction class).
    /// </summary>
    public string PredictedLabelColumnName { get; set; } = DefaultPredictedLabelColumnName;

    /// <summary>Output column with the softmax probabilities: a float vector of C elements, element i for label i.</summary>
    public string ScoreColumnName { get; set; } = DefaultScoreColumnName;

    /// <summary>Output column with the predicted class index: an int64 vector with one element (<c>long[]</c>).</summary>
    public string ClassIndexColumnName { get; set; } = DefaultClassIndexColumnName;

    /// <summary>How images that are not 32×32 are brought to 32×32 (ML.NET's default: keep the aspect ratio, crop the centre).</summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; set; } = ImageResizingEstimator.ResizingKind.IsoCrop;

    /// <summary>Bytes of an ONNX model written by <see cref="OnnxExporter"/>; embedded in a saved ML.NET model.</summary>
    public byte[]? OnnxModel { get; set; }

    /// <summary>A p-Model to export to ONNX in memory (alternative to <see cref="OnnxModel"/>).</summary>
    public PModel? PModel { get; set; }

    /// <summary>Prompt recorded in the ONNX metadata when exporting <see cref="PModel"/>; defaults to the comma-joined labels.</summary>
    public string? Prompt { get; set; }

    /// <summary>Method recorded in the ONNX metadata when exporting <see cref="PModel"/>; optional.</summary>
    public string? Method { get; set; }
}
