using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet.Export;

namespace Tina.MLNet.MLNet;

/// <summary>
/// Classifies image files with a Tina model given as an exported <c>.onnx</c> file (the ML.NET pipeline is built
/// around it, labels from its metadata) or as an ML.NET <c>.zip</c> saved from such a pipeline. Used by the CLI's
/// <c>predict</c>. Not thread-safe (one ML.NET prediction engine).
/// </summary>
public sealed class TinaPredictor : IDisposable
{
    private readonly PredictionEngine<TinaImageInput, TinaImagePrediction> _engine;

    private TinaPredictor(string modelPath, ITransformer model, TinaOnnxModelInfo? info, PredictionEngine<TinaImageInput, TinaImagePrediction> engine)
    {
        ModelPath = modelPath;
        Model = model;
        ModelInfo = info;
        _engine = engine;
    }

    /// <summary>The model file this predictor was loaded from.</summary>
    public string ModelPath { get; }

    /// <summary>The fitted ML.NET pipeline (can be saved with <see cref="TinaMLNetModel.Save"/>).</summary>
    public ITransformer Model { get; }

    /// <summary>Labels, architecture and prompt of the model; null for a zip whose embedded ONNX model could not be read.</summary>
    public TinaOnnxModelInfo? ModelInfo { get; }

    /// <summary>The model's labels in score order, or null when unknown (see <see cref="ModelInfo"/>).</summary>
    public IReadOnlyList<string>? Labels => ModelInfo?.Labels;

    /// <summary>Loads a <c>.onnx</c> file exported by Tina or an ML.NET <c>.zip</c> built from one (recognised by content).</summary>
    /// <param name="modelPath">The model file.</param>
    /// <param name="mlContext">The ML.NET context to use; a new one when null.</param>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is neither an ONNX model nor an ML.NET zip.</exception>
    /// <exception cref="TinaException">The model is not a Tina classifier, or this process loaded a SkiaSharp that ML.NET's image transforms cannot use.</exception>
    public static TinaPredictor Load(string modelPath, MLContext? mlContext = null)
    {
        if (!File.Exists(modelPath))
            throw new TinaFileNotFoundException(modelPath, "Expected a Tina model: an .onnx file from 'tina export' or an ML.NET .zip.");
        var ml = mlContext ?? new MLContext(seed: 0);
        ITransformer model;
        TinaOnnxModelInfo? info;
        if (IsZip(modelPath))
        {
            model = TinaMLNetModel.Load(ml, modelPath, out var inputSchema);
            var input = inputSchema.GetColumnOrNull(TinaClassifierOptions.DefaultImagePathColumnName);
            if (input is null || input.Value.Type is not TextDataViewType)
                throw new TinaException($"{modelPath} is an ML.NET model but not a Tina classifier saved with the default input column '{TinaClassifierOptions.DefaultImagePathColumnName}' (text).");
            var output = model.GetOutputSchema(inputSchema);
            foreach (var name in new[] { TinaClassifierOptions.DefaultPredictedLabelColumnName, TinaClassifierOptions.DefaultScoreColumnName, TinaClassifierOptions.DefaultClassIndexColumnName })
                if (output.GetColumnOrNull(name) is null)
                    throw new TinaException($"{modelPath} is an ML.NET model but not a Tina classifier with the default output columns: '{name}' is missing.");
            info = TinaMLNetModel.ReadEmbeddedModelInfo(modelPath);
        }
        else
        {
            var bytes = File.ReadAllBytes(modelPath);
            info = TinaOnnxModelReader.Read(bytes, modelPath);
            model = TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = bytes });
        }
        SkiaSharpCompatibility.EnsureImagePipelineWorks();
        var engine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(model);
        return new TinaPredictor(modelPath, model, info, engine);
    }

    /// <summary>Classifies the image at <paramref name="imagePath"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The image does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    public TinaPrediction Predict(string imagePath)
    {
        if (!File.Exists(imagePath))
            throw new TinaFileNotFoundException(imagePath, "Expected an image file (PNG, JPEG, BMP, …).");
        TinaImagePrediction p;
        try
        {
            p = _engine.Predict(new TinaImageInput { ImagePath = Path.GetFullPath(imagePath) });
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or FormatException or NotSupportedException)
        {
            throw new CorruptFileException(imagePath, $"not a readable image ({e.Message})", e);
        }
        if (p.PredictedLabel.Length != 1 || p.ClassIndex.Length != 1 || p.Score.Length == 0)
            throw new TinaException($"{ModelPath}: the model returned malformed outputs for {imagePath}.");
        int index = (int)p.ClassIndex[0];
        var scores = p.Score.ToArray();
        return new TinaPrediction(imagePath, p.PredictedLabel[0], index, (uint)index < (uint)scores.Length ? scores[index] : float.NaN, scores);
    }

    /// <summary>Classifies each image of <paramref name="imagePaths"/>, in order.</summary>
    public IReadOnlyList<TinaPrediction> Predict(IEnumerable<string> imagePaths) => imagePaths.Select(Predict).ToList();

    /// <summary>Releases the prediction engine (and with it the ONNX Runtime session).</summary>
    public void Dispose() => _engine.Dispose();

    private static bool IsZip(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4;
    }
}
