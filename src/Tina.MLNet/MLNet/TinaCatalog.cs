using Microsoft.ML.Transforms.Image;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;

namespace Microsoft.ML;

/// <summary>
/// Catalog extensions that put Tina classifiers in ML.NET pipelines, in the style of ML.NET's <c>ApplyOnnxModel</c>
/// and <c>LoadImages</c>: <c>mlContext.Transforms.ApplyTinaClassifier(...)</c> applies an exported Tina model (the
/// Tina.MLNet.Generation package adds <c>TinaGenerate</c>, which generates one from a class list and fits to the same
/// savable chain of ML.NET's own transformers).
/// </summary>
public static class TinaCatalog
{
    /// <summary>The default column names and image settings of the Tina estimators.</summary>
    public static class Defaults
    {
        /// <summary>Default input column: the image file path (text). An in-memory image column (<c>MLImage</c>) is usually called <see cref="ImageColumnName"/>.</summary>
        public const string ImagePathColumnName = "ImagePath";

        /// <summary>Conventional name of an input column of in-memory images (<c>MLImage</c>), as in <see cref="TinaInMemoryImageInput"/>.</summary>
        public const string ImageColumnName = "Image";

        /// <summary>Conventional name of an input column of encoded image bytes (<c>byte[]</c>: PNG, JPEG, …), as in <see cref="TinaImageBytesInput"/>.</summary>
        public const string ImageBytesColumnName = "ImageBytes";

        /// <summary>Default output column with the predicted label (text).</summary>
        public const string PredictedLabelColumnName = "PredictedLabel";

        /// <summary>Default output column with the softmax probabilities (float vector, element i for label i).</summary>
        public const string ScoreColumnName = "Score";

        /// <summary>Default output column with the predicted class index (int64).</summary>
        public const string ClassIndexColumnName = "ClassIndex";

        /// <summary>Default resizing of images that are not 32×32: keep the aspect ratio, scale the shorter side, crop the centre.</summary>
        public const ImageResizingEstimator.ResizingKind Resizing = ImageResizingEstimator.ResizingKind.IsoCrop;

        /// <summary>Side of the square images the p-Models read (32 pixels).</summary>
        public const int ImageSize = 32;
    }

    /// <summary>
    /// Creates a <see cref="TinaClassifierEstimator"/>, which classifies the images of an input column (file paths as
    /// text, encoded image bytes as <c>byte[]</c>, or in-memory <c>MLImage</c>s) with a Tina model (ONNX bytes) and outputs the predicted label,
    /// the score vector and the class index.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">Columns, image folder and model.</param>
    /// <exception cref="ArgumentException">The options are inconsistent (no model, clashing column names).</exception>
    /// <exception cref="InvalidModelException">The ONNX bytes are not a Tina classifier.</exception>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    public static TinaClassifierEstimator ApplyTinaClassifier(this TransformsCatalog catalog, TinaClassifierOptions options) =>
        new(catalog, options);

    /// <summary>
    /// Creates a <see cref="TinaClassifierEstimator"/> for the ONNX model file at <paramref name="onnxModelPath"/>
    /// (written by Tina's exporter); the model bytes are read now and embedded in the pipeline.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="onnxModelPath">Path of the <c>.onnx</c> file.</param>
    /// <param name="inputColumnName">Input column with the image file paths (text), encoded image bytes (<c>byte[]</c>) or in-memory images (<c>MLImage</c>).</param>
    /// <param name="imageFolder">Folder the paths are relative to; null for paths used as they are.</param>
    /// <exception cref="TinaFileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="InvalidModelException">The file is an ONNX model but not a Tina classifier.</exception>
    /// <exception cref="CorruptFileException">The file is not an ONNX model.</exception>
    public static TinaClassifierEstimator ApplyTinaClassifier(this TransformsCatalog catalog, string onnxModelPath,
        string inputColumnName = Defaults.ImagePathColumnName, string? imageFolder = null)
    {
        if (!File.Exists(onnxModelPath))
            throw new TinaFileNotFoundException(onnxModelPath, "Expected an ONNX model written by 'tina export'.");
        var bytes = File.ReadAllBytes(onnxModelPath);
        // Validate here so that the error names the file rather than "the ONNX model given to the Tina classifier".
        TinaOnnxModelReader.Read(bytes, onnxModelPath);
        return new TinaClassifierEstimator(catalog, new TinaClassifierOptions
        {
            OnnxModel = bytes,
            InputColumnName = inputColumnName,
            ImageFolder = imageFolder,
        });
    }
}
