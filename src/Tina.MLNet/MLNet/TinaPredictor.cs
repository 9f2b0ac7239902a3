using System.Collections.Concurrent;
using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;

namespace Tina.MLNet;

/// <summary>
/// Classifies images — files, encoded bytes (PNG, JPEG, BMP…), streams or <see cref="MLImage"/>s — with a Tina model,
/// loaded once: an exported <c>.onnx</c> file, an ML.NET <c>.zip</c> built from one, or ONNX bytes in memory. Thread-safe:
/// the predictor keeps a pool of ML.NET prediction engines (one per concurrent caller), so a service creates one
/// predictor per model and shares it across requests.
/// </summary>
/// <remarks>
/// Why a pool of its own: <see cref="PredictionEngine{TSrc, TDst}"/> is not thread-safe, and disposing one engine
/// breaks every other engine created from the same fitted model (they share the ONNX Runtime session; ML.NET 5's own
/// behaviour). So the engines here are never disposed one by one — not even when a burst of callers leaves more engines
/// than usual (a general-purpose object pool would dispose the surplus) — only all together by <see cref="Dispose"/>.
/// The same rule holds for engines you create yourself from a Tina model: create one per thread and keep it, or
/// dispose them only when the model is no longer used.
/// Every input goes through the in-memory pipeline (ResizeImages → ExtractPixels → ApplyOnnxModel → MapValue), so a
/// file and its bytes give the same prediction, and a <c>.zip</c> predicts with the resize policy recorded in its model.
/// Files, bytes and streams are read through <see cref="TinaImages"/>: an image over <see cref="ImageLimits"/> (20 MB,
/// or a header that declares more than 40 megapixels or a side over 20,000 pixels) throws
/// <see cref="ImageTooLargeException"/> before it is decoded.
/// </remarks>
public sealed class TinaPredictor : IDisposable
{
    private readonly ConcurrentBag<PredictionEngine<TinaInMemoryImageInput, TinaImagePrediction>> _idle = [];
    private readonly ConcurrentQueue<PredictionEngine<TinaInMemoryImageInput, TinaImagePrediction>> _all = [];
    private readonly MLContext _ml;
    private volatile bool _disposed;
    private volatile TinaImageLimits _imageLimits = TinaImageLimits.Default;
    private string? _modelFile;

    private TinaPredictor(string source, MLContext ml, ITransformer model, TinaOnnxModelInfo info)
    {
        Source = source;
        _ml = ml;
        Model = model;
        ModelInfo = info;
    }

    /// <summary>Where the model came from (the file, or the name given to <see cref="FromOnnx"/>).</summary>
    public string Source { get; }

    /// <summary>The fitted ML.NET pipeline over in-memory images (input <see cref="TinaInMemoryImageInput"/>); save it with <see cref="TinaMLNetModel.Save"/> and <c>EmptyImageInput(ml).Schema</c>.</summary>
    public ITransformer Model { get; }

    /// <summary>Labels, architecture, prompt and method of the model.</summary>
    public TinaOnnxModelInfo ModelInfo { get; }

    /// <summary>The model's labels in score order.</summary>
    public IReadOnlyList<string> Labels => ModelInfo.Labels;

    /// <summary>Loads a <c>.onnx</c> file exported by Tina or an ML.NET <c>.zip</c> built from one (recognised by content).</summary>
    /// <param name="modelPath">The model file.</param>
    /// <param name="mlContext">The ML.NET context to use; a new one when null.</param>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is neither an ONNX model nor an ML.NET zip.</exception>
    /// <exception cref="InvalidModelException">The model is not a Tina classifier.</exception>
    public static TinaPredictor Load(string modelPath, MLContext? mlContext = null)
    {
        if (!File.Exists(modelPath))
            throw new TinaFileNotFoundException(modelPath, "Expected a Tina model: an .onnx file from 'tina export' or an ML.NET .zip.");
        byte[] onnx;
        if (IsZip(modelPath))
        {
            // Only the embedded Tina ONNX model is needed (the pipeline is rebuilt around it): no ML.NET load of the zip.
            onnx = TinaMLNetModel.ReadEmbeddedModel(modelPath)?.Onnx
                ?? throw new InvalidModelException($"{modelPath} is a zip but not an ML.NET model holding a Tina classifier (no ONNX model with Tina's metadata inside).");
        }
        else
        {
            onnx = File.ReadAllBytes(modelPath);
        }
        return FromOnnx(onnx, modelPath, mlContext);
    }

    /// <summary>A predictor for the Tina ONNX model <paramref name="onnxModel"/> (e.g. the bytes <c>tina generate</c> writes), without touching the disk.</summary>
    /// <param name="onnxModel">The ONNX bytes.</param>
    /// <param name="source">Names the model in error messages.</param>
    /// <param name="mlContext">The ML.NET context to use; a new one when null.</param>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    /// <exception cref="InvalidModelException">The model is not a Tina classifier.</exception>
    public static TinaPredictor FromOnnx(byte[] onnxModel, string source = "ONNX model", MLContext? mlContext = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        var proto = TinaOnnxModelReader.Parse(onnxModel, source);
        var info = TinaOnnxModelReader.Describe(proto, source);
        var resizing = OnnxResizePolicy.ParseMode(info.ResizeMode, source);
        var ml = mlContext ?? new MLContext(seed: 0);
        var estimator = new TinaClassifierEstimator(ml.Transforms, new TinaClassifierOptions
        {
            OnnxModel = onnxModel,
            InputColumnName = TinaCatalog.Defaults.ImageColumnName,
            Resizing = resizing,
        });
        var model = estimator.Fit(TinaMLNetModel.EmptyImageInput(ml));
        return new TinaPredictor(source, ml, model, info) { _modelFile = estimator.FittedModelFile };
    }

    /// <summary>
    /// The size limits of the images this predictor reads from files, bytes and streams (<see cref="TinaImageLimits.Default"/>:
    /// 20 MB, 40 megapixels, 20,000 pixels per side): checked before anything is decoded. Images passed as
    /// <see cref="MLImage"/> are already decoded and not checked.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public TinaImageLimits ImageLimits
    {
        get => _imageLimits;
        set => _imageLimits = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Classifies the image file at <paramref name="imagePath"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The image does not exist.</exception>
    /// <exception cref="ImageTooLargeException">The file is larger than <see cref="ImageLimits"/> allow, or its header declares more pixels than they allow (refused before decoding).</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    public TinaPrediction Predict(string imagePath)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        using var image = TinaImages.DecodeFile(imagePath, _imageLimits);
        return Predict(image, imagePath);
    }

    /// <summary>Classifies the encoded image (PNG, JPEG, BMP, WebP, …) in <paramref name="encodedImage"/>.</summary>
    /// <exception cref="ImageTooLargeException">The bytes are more than <see cref="ImageLimits"/> allow, or their header declares more pixels than they allow (refused before decoding).</exception>
    /// <exception cref="CorruptFileException">The bytes are not a readable image.</exception>
    public TinaPrediction Predict(byte[] encodedImage)
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        using var image = TinaImages.Decode(encodedImage, "image bytes", _imageLimits);
        return Predict(image, "image bytes");
    }

    /// <summary>
    /// Classifies the encoded image read from <paramref name="encodedImage"/> (read to its end, at most
    /// <see cref="TinaImageLimits.MaxBytes"/> of <see cref="ImageLimits"/>); <paramref name="source"/> names it in errors and in the result.
    /// </summary>
    /// <exception cref="ImageTooLargeException">The stream holds more bytes than <see cref="ImageLimits"/> allow, or the image's header declares more pixels than they allow (refused before decoding).</exception>
    /// <exception cref="CorruptFileException">The stream does not hold a readable image.</exception>
    public TinaPrediction Predict(Stream encodedImage, string source = "image stream")
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        using var image = TinaImages.DecodeStream(encodedImage, source, _imageLimits);
        return Predict(image, source);
    }

    /// <summary>
    /// Classifies the image file at <paramref name="imagePath"/>, reading it asynchronously (the prediction itself,
    /// a few milliseconds of CPU, runs on the calling thread).
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">The image does not exist.</exception>
    /// <exception cref="ImageTooLargeException">The file is larger than <see cref="ImageLimits"/> allow, or its header declares more pixels than they allow.</exception>
    /// <exception cref="CorruptFileException">The file is not a readable image.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TinaPrediction> PredictAsync(string imagePath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var limits = _imageLimits;
        var bytes = await TinaImages.ReadFileAsync(imagePath, limits, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        using var image = TinaImages.Decode(bytes, imagePath, limits);
        return Predict(image, imagePath);
    }

    /// <summary>
    /// Classifies the encoded image read asynchronously from <paramref name="encodedImage"/> — a request body or an
    /// uploaded file's stream (<c>IFormFile.OpenReadStream()</c>) — read to its end, at most
    /// <see cref="TinaImageLimits.MaxBytes"/> of <see cref="ImageLimits"/>; <paramref name="source"/> names it in errors
    /// and in the result. Cancelling <paramref name="cancellationToken"/> (e.g. <c>HttpContext.RequestAborted</c>)
    /// stops the read and skips the prediction.
    /// </summary>
    /// <exception cref="ImageTooLargeException">The stream holds more bytes than <see cref="ImageLimits"/> allow, or the image's header declares more pixels than they allow (refused before decoding).</exception>
    /// <exception cref="CorruptFileException">The stream does not hold a readable image.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TinaPrediction> PredictAsync(Stream encodedImage, string source = "image stream", CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var limits = _imageLimits;
        var bytes = await TinaImages.ReadBoundedAsync(encodedImage, source, limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        using var image = TinaImages.Decode(bytes, source, limits);
        return Predict(image, source);
    }

    /// <summary>
    /// Classifies the encoded image in <paramref name="encodedImage"/> (see <see cref="Predict(byte[])"/>) on the
    /// calling thread; the task is cancelled without predicting when <paramref name="cancellationToken"/> already is.
    /// </summary>
    /// <exception cref="ImageTooLargeException">The bytes are more than <see cref="ImageLimits"/> allow, or their header declares more pixels than they allow.</exception>
    /// <exception cref="CorruptFileException">The bytes are not a readable image.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public Task<TinaPrediction> PredictAsync(byte[] encodedImage, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encodedImage);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<TinaPrediction>(cancellationToken);
        try
        {
            return Task.FromResult(Predict(encodedImage));
        }
        catch (Exception e)
        {
            return Task.FromException<TinaPrediction>(e);
        }
    }

    /// <summary>Classifies an image already in memory (not disposed here); <paramref name="source"/> names it in the result.</summary>
    public TinaPrediction Predict(MLImage image, string source = "image")
    {
        ArgumentNullException.ThrowIfNull(image);
        ObjectDisposedException.ThrowIf(_disposed, this);
        var engine = Rent();
        TinaImagePrediction p;
        try
        {
            p = engine.Predict(new TinaInMemoryImageInput { Image = image });
        }
        finally
        {
            _idle.Add(engine);
        }
        if (p.Score.Length != Labels.Count || p.ClassIndex.Length != 1 || p.PredictedLabel.Length != 1 || (uint)p.Index >= (uint)Labels.Count)
            throw new TinaException($"{Source}: the model returned malformed outputs for {source}.");
        return new TinaPrediction(source, p.Label, p.Index, p.Score[p.Index], p.Score);
    }

    /// <summary>Classifies each image file of <paramref name="imagePaths"/>, in order.</summary>
    public IReadOnlyList<TinaPrediction> Predict(IEnumerable<string> imagePaths) => imagePaths.Select(Predict).ToList();

    /// <summary>
    /// Releases every prediction engine and the model (its ONNX Runtime session, and the copy of the ONNX model that
    /// ML.NET reads from the temp folder while the model lives); call once no prediction is running.
    /// </summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        while (_all.TryDequeue(out var e)) e.Dispose();
        _idle.Clear();
        (Model as IDisposable)?.Dispose();
        TinaTempFiles.Delete(_modelFile);
    }

    private PredictionEngine<TinaInMemoryImageInput, TinaImagePrediction> Rent()
    {
        if (_idle.TryTake(out var engine)) return engine;
        engine = _ml.Model.CreatePredictionEngine<TinaInMemoryImageInput, TinaImagePrediction>(Model);
        _all.Enqueue(engine);
        return engine;
    }

    private static bool IsZip(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4;
    }
}
