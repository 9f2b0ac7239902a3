using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using Tina.MLNet.Export;

namespace Tina.MLNet;

/// <summary>
/// Options of <see cref="TinaClassifierEstimator"/> (<c>mlContext.Transforms.ApplyTinaClassifier(options)</c>): which
/// column holds the images, where image files are, how the outputs are named, and the model: the bytes of an ONNX
/// classifier exported by Tina (<c>tina generate</c>, <c>tina export</c>, or <c>OnnxExporter</c> of the
/// Tina.MLNet.Generation package for a p-Model in memory).
/// </summary>
public sealed class TinaClassifierOptions
{
    /// <summary>
    /// Input column with the images: text holding each image file's path (relative to <see cref="ImageFolder"/> if
    /// set; the default <see cref="TinaCatalog.Defaults.ImagePathColumnName"/>), a vector of bytes holding each encoded
    /// image (<c>byte[]</c>, e.g. <see cref="TinaImageBytesInput"/>'s <see cref="TinaCatalog.Defaults.ImageBytesColumnName"/>;
    /// decoded by Tina with its size limits, <see cref="TinaImageDecodingFactory"/>), or an image column of in-memory
    /// <c>MLImage</c>s (e.g. <see cref="TinaInMemoryImageInput"/>'s <see cref="TinaCatalog.Defaults.ImageColumnName"/>).
    /// The kind is read from the input schema when the estimator fits.
    /// </summary>
    public string InputColumnName { get; set; } = TinaCatalog.Defaults.ImagePathColumnName;

    /// <summary>Folder the paths in <see cref="InputColumnName"/> are relative to; null for paths used as they are. Ignored for bytes and in-memory images.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>
    /// Output column with the predicted label: a text vector holding one element (<c>Vector&lt;String&gt;</c>, its length
    /// not declared), bound by
    /// <see cref="TinaImagePrediction.PredictedLabel"/> (<c>string[]</c>; <see cref="TinaImagePrediction.Label"/> is the string).
    /// </summary>
    public string PredictedLabelColumnName { get; set; } = TinaCatalog.Defaults.PredictedLabelColumnName;

    /// <summary>
    /// Output column with the softmax probabilities: a float vector of C elements, element i for label i
    /// (<c>Vector&lt;Single, C&gt;</c>), bound by <see cref="TinaImagePrediction.Score"/> (<c>float[]</c>).
    /// </summary>
    public string ScoreColumnName { get; set; } = TinaCatalog.Defaults.ScoreColumnName;

    /// <summary>
    /// Output column with the predicted class index: an int64 vector of one element (<c>Vector&lt;Int64, 1&gt;</c>),
    /// bound by <see cref="TinaImagePrediction.ClassIndex"/> (<c>long[]</c>; <see cref="TinaImagePrediction.Index"/> is the number).
    /// </summary>
    public string ClassIndexColumnName { get; set; } = TinaCatalog.Defaults.ClassIndexColumnName;

    /// <summary>
    /// How images of another size are brought to the model's input size (32×32, or 224×224 for resnet18; default: keep
    /// the aspect ratio, scale the shorter side, crop the centre). Recorded in the embedded model's metadata
    /// (<see cref="TinaOnnxSchema.ResizeKey"/>).
    /// </summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; set; } = TinaCatalog.Defaults.Resizing;

    /// <summary>
    /// Bytes of an ONNX model written by Tina's exporter; embedded in a saved ML.NET model. Required. A one-file
    /// classifier reads images; a head alone (<c>tina export --format head</c>) reads ResNet-18 features, and the chain
    /// then runs the backbone from <see cref="BackboneDirectory"/> first.
    /// </summary>
    public byte[]? OnnxModel { get; set; }

    /// <summary>
    /// For a head alone: the <c>DnnImageModels</c> folder of the package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
    /// (null: the one next to the app, <see cref="ResNet18Backbone.DefaultDirectory"/>). Its models are read when the
    /// chain is fitted and embedded in a saved zip. Ignored for one-file classifiers.
    /// </summary>
    public string? BackboneDirectory { get; set; }
}
