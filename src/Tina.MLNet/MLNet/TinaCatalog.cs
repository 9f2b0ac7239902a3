using Tina;
using Tina.MLNet.MLNet;

namespace Microsoft.ML;

/// <summary>
/// Catalog extensions that add Tina classifiers to ML.NET pipelines, in the style of ML.NET's
/// <c>ApplyOnnxModel</c> and <c>LoadImages</c>: <c>mlContext.Transforms.ApplyTinaClassifier(...)</c>.
/// </summary>
public static class TinaCatalog
{
    /// <summary>
    /// Creates a <see cref="TinaClassifierEstimator"/>, which classifies the image files named in a text column with a
    /// Tina model (ONNX bytes or a p-Model) and outputs the predicted label, the score vector and the class index.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">Columns, image folder and model.</param>
    public static TinaClassifierEstimator ApplyTinaClassifier(this TransformsCatalog catalog, TinaClassifierOptions options) =>
        new(catalog, options);

    /// <summary>
    /// Creates a <see cref="TinaClassifierEstimator"/> for the ONNX model file at <paramref name="onnxModelPath"/>
    /// (written by Tina's exporter); the model bytes are read now and embedded in the pipeline.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="onnxModelPath">Path of the <c>.onnx</c> file.</param>
    /// <param name="imagePathColumnName">Input column with the image file paths.</param>
    /// <param name="imageFolder">Folder the paths are relative to; null for paths used as they are.</param>
    /// <exception cref="TinaFileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="TinaException">The file is not a Tina ONNX model.</exception>
    public static TinaClassifierEstimator ApplyTinaClassifier(this TransformsCatalog catalog, string onnxModelPath,
        string imagePathColumnName = TinaClassifierOptions.DefaultImagePathColumnName, string? imageFolder = null)
    {
        if (!File.Exists(onnxModelPath))
            throw new TinaFileNotFoundException(onnxModelPath, "Expected an ONNX model written by 'tina export'.");
        var bytes = File.ReadAllBytes(onnxModelPath);
        // Validate here so that the error names the file rather than "the ONNX model given to the Tina classifier".
        Tina.MLNet.Export.TinaOnnxModelReader.Read(bytes, onnxModelPath);
        return new TinaClassifierEstimator(catalog, new TinaClassifierOptions
        {
            OnnxModel = bytes,
            ImagePathColumnName = imagePathColumnName,
            ImageFolder = imageFolder,
        });
    }
}
