using Microsoft.ML.OnnxRuntime;

namespace Tina.MLNet;

/// <summary>
/// Runs <see cref="ResNet18Backbone"/> in ONNX Runtime over batches of images of one size (RGB planes in [0, 1]),
/// returning 512 features per image. Thread-safe (ONNX Runtime sessions are); dispose it to free the session.
/// </summary>
public sealed class BackboneFeatureExtractor : IDisposable
{
    /// <summary>Images per ONNX Runtime call: large enough to keep the matrix kernels busy, small enough for the activations of a 224-pixel batch (~0.5 GB at 32).</summary>
    public const int BatchSize = 32;

    private readonly InferenceSession _session;

    /// <summary>Creates the session for images of <paramref name="inputSize"/>×<paramref name="inputSize"/> pixels.</summary>
    /// <param name="backbone">The backbone.</param>
    /// <param name="inputSize">Side of the square images given to <see cref="Run"/>; resized to 224 inside the graph.</param>
    /// <param name="threads">Threads of one ONNX Runtime call (0: ONNX Runtime's default, one per core).</param>
    /// <param name="backboneSize">Side the backbone reads (224; other sizes only for input-size studies, see <see cref="ResNet18Backbone.FeatureExtractorModel"/>).</param>
    public BackboneFeatureExtractor(ResNet18Backbone backbone, int inputSize, int threads = 0, int backboneSize = ResNet18Backbone.ImageSize)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        InputSize = inputSize;
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        _session = new InferenceSession(backbone.FeatureExtractorModel(inputSize, backboneSize), options);
    }

    /// <summary>Side of the square images this extractor reads.</summary>
    public int InputSize { get; }

    /// <summary>
    /// Features of <paramref name="count"/> images held in <paramref name="images"/> ([count, 3, S, S] RGB planes in
    /// [0, 1], S = <see cref="InputSize"/>): <c>count × 512</c> floats, image after image.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> does not hold <paramref name="count"/> images of this size.</exception>
    /// <param name="images">The images.</param>
    /// <param name="count">How many.</param>
    /// <param name="cancel">Checked between batches.</param>
    /// <param name="imagesDone">Told the number of images done after every batch (for progress), or null.</param>
    public float[] Run(ReadOnlyMemory<float> images, int count, CancellationToken cancel = default, Action<int>? imagesDone = null)
    {
        int per = 3 * InputSize * InputSize;
        if (count < 0 || images.Length != (long)count * per)
            throw new ArgumentException($"Expected {count} images of 3×{InputSize}×{InputSize} floats ({(long)count * per} values); got {images.Length}.", nameof(images));
        var result = new float[count * ResNet18Backbone.FeatureDim];
        for (int s = 0; s < count; s += BatchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int b = Math.Min(BatchSize, count - s);
            var chunk = images.Slice(s * per, b * per).ToArray();
            using var input = OrtValue.CreateTensorValueFromMemory(chunk, [b, 3, InputSize, InputSize]);
            using var run = new RunOptions();
            using var outputs = _session.Run(run, ["image"], [input], ["features"]);
            outputs[0].GetTensorDataAsSpan<float>().CopyTo(result.AsSpan(s * ResNet18Backbone.FeatureDim));
            imagesDone?.Invoke(s + b);
        }
        return result;
    }

    /// <summary>
    /// The machine's float matrix-product speed (FLOP/s) in ONNX Runtime, the kernels the backbone's convolutions use:
    /// 1024×1024 by 1024×1024 MatMul repeated for about <paramref name="duration"/> after a warm-up, with
    /// <paramref name="threads"/> threads (0: one per core). The floor of <c>tina bench features</c>.
    /// </summary>
    public static double MeasureMatmulFlops(TimeSpan duration, int threads = 0)
    {
        const int n = 1024;
        var g = new Export.OnnxGraphBuilder("matmul");
        var a = g.Input("a", "", Onnx.Proto.TensorProto.Types.DataType.Float, Export.OnnxGraphBuilder.Dim(n), Export.OnnxGraphBuilder.Dim(n));
        var rng = new Random(0);
        var b = g.Initializer("b", [n, n], Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble()).ToArray());
        g.Output(g.Node("MatMul", [a, b], "c"), "", Onnx.Proto.TensorProto.Types.DataType.Float, Export.OnnxGraphBuilder.Dim(n), Export.OnnxGraphBuilder.Dim(n));
        var model = new Onnx.Proto.ModelProto { IrVersion = Export.TinaOnnxSchema.IrVersion, Graph = g.Graph };
        model.OpsetImport.Add(new Onnx.Proto.OperatorSetIdProto { Domain = "", Version = Export.TinaOnnxSchema.OpsetVersion });
        using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(model), options);
        var data = Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble()).ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, [n, n]);
        using var run = new RunOptions();
        for (int i = 0; i < 3; i++) { using var warm = session.Run(run, ["a"], [input], ["c"]); }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long count = 0;
        while (sw.Elapsed < duration) { using var c = session.Run(run, ["a"], [input], ["c"]); count++; }
        return count * 2.0 * n * n * n / sw.Elapsed.TotalSeconds;
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}
