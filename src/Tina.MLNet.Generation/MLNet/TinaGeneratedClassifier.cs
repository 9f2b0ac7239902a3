using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.PModels;

namespace Tina.MLNet.Generation;

/// <summary>
/// A classifier generated from a class list: the p-Model (or seed ensemble), its ONNX bytes, and what produced it.
/// <see cref="Generate(TinaGenerator, IReadOnlyList{ClassPrompt}, GenerateOptions?, ClassifierFormat)"/> is the one generation path of Tina.MLNet — the CLI's <c>tina generate</c> and <c>tina new</c>,
/// <see cref="TinaGenerateEstimator"/> and any server call it — and the ONNX bytes go straight into files or into the
/// ML.NET chain (<see cref="ToMLNet"/>), never through a file that is read back.
/// </summary>
public sealed class TinaGeneratedClassifier
{
    private TinaGeneratedClassifier(PModelEnsemble models, byte[] onnx, string prompt, string method, TimeSpan elapsed)
    {
        Models = models;
        Onnx = onnx;
        Prompt = prompt;
        Method = method;
        Elapsed = elapsed;
    }

    /// <summary>The generated p-Models (one, or the members of a seed ensemble).</summary>
    public PModelEnsemble Models { get; }

    /// <summary>
    /// The exported ONNX model (one graph, averaging an ensemble's softmax; see <see cref="OnnxExporter"/>): the whole
    /// classifier, or for <see cref="ClassifierFormat.Head"/> the head alone.
    /// </summary>
    public byte[] Onnx { get; }

    /// <summary>The labels, in output order (the parsed class list).</summary>
    public IReadOnlyList<string> Labels => Models.Labels;

    /// <summary>The prompt recorded in the model: the labels joined by commas.</summary>
    public string Prompt { get; }

    /// <summary>How it was sampled, e.g. <c>tina ddim-50 seed 0 ema</c>; recorded in the model.</summary>
    public string Method { get; }

    /// <summary>Time spent sampling the p-Models (without the export).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// Generates the classifier of <paramref name="classes"/> (parsed by <see cref="Tasks.ClassList"/>) with
    /// <paramref name="generator"/> and exports it to ONNX in memory.
    /// </summary>
    /// <exception cref="InvalidPromptException">Empty, too many classes, duplicates, invalid names, or words that cannot be encoded.</exception>
    /// <param name="generator">The trained generator.</param>
    /// <param name="classes">The class names, in output order.</param>
    /// <param name="options">Sampling settings (default: DDIM, seed 0, EMA weights).</param>
    /// <param name="format">The whole classifier in one ONNX file (default) or, for resnet18, the head alone.</param>
    public static TinaGeneratedClassifier Generate(TinaGenerator generator, IReadOnlyList<string> classes, GenerateOptions? options = null, ClassifierFormat format = ClassifierFormat.OneFile)
    {
        ArgumentNullException.ThrowIfNull(classes);
        return Generate(generator, ClassPrompt.OfNames(Tasks.ClassList.Parse(classes, generator?.MaxClasses ?? int.MaxValue)), options, format);
    }

    /// <summary>
    /// Generates the classifier of classes that carry their own conditioning texts — a name, or a description of the
    /// class (<see cref="ClassPrompt"/>); the ONNX outputs carry the labels.
    /// </summary>
    /// <exception cref="InvalidPromptException">A class is invalid, or a text cannot be encoded.</exception>
    /// <exception cref="TinaException"><paramref name="format"/> is <see cref="ClassifierFormat.Head"/> for a generator of whole networks.</exception>
    public static TinaGeneratedClassifier Generate(TinaGenerator generator, IReadOnlyList<ClassPrompt> classes, GenerateOptions? options = null, ClassifierFormat format = ClassifierFormat.OneFile) =>
        Generate(generator, classes, options, format, CancellationToken.None);

    /// <summary>
    /// As <see cref="Generate(TinaGenerator, IReadOnlyList{string}, GenerateOptions?, ClassifierFormat)"/>, on a
    /// thread-pool thread: the diffusion run (CPU-bound, from milliseconds to seconds) does not hold the caller's thread, and
    /// <paramref name="cancellationToken"/> stops it between two diffusion steps (an <see cref="OperationCanceledException"/>).
    /// The same bytes as the synchronous call. The generator must not be disposed before the task ends.
    /// </summary>
    /// <param name="generator">The trained generator.</param>
    /// <param name="classes">The class names, in output order.</param>
    /// <param name="options">Sampling settings (default: DDIM, seed 0, EMA weights).</param>
    /// <param name="format">The whole classifier in one ONNX file (default) or, for resnet18, the head alone.</param>
    /// <param name="cancellationToken">Stops the generation (e.g. the HTTP request's <c>RequestAborted</c>).</param>
    /// <exception cref="InvalidPromptException">Empty, too many classes, duplicates, invalid names, or words that cannot be encoded.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<TinaGeneratedClassifier> GenerateAsync(TinaGenerator generator, IReadOnlyList<string> classes, GenerateOptions? options = null,
        ClassifierFormat format = ClassifierFormat.OneFile, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(classes);
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<TinaGeneratedClassifier>(cancellationToken);
        return Task.Run(() => Generate(generator, ClassPrompt.OfNames(Tasks.ClassList.Parse(classes, generator.MaxClasses)), options, format, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// The one generation path: samples <paramref name="classes"/> and exports them once, with <paramref name="resizing"/>
    /// recorded as the model's resize policy (the one of the ML.NET pipeline that will embed it).
    /// </summary>
    internal static TinaGeneratedClassifier Generate(TinaGenerator generator, IReadOnlyList<ClassPrompt> classes, GenerateOptions? options, ClassifierFormat format, CancellationToken cancellationToken,
        Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind resizing = TinaCatalog.Defaults.Resizing)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(classes);
        options = generator.Resolve(options ?? new GenerateOptions());
        var sw = Stopwatch.StartNew();
        var models = generator.GenerateEnsembles([classes], options, cancellationToken)[0];
        var elapsed = sw.Elapsed;
        CheckBackbone(generator);
        return Export(models, options, format, elapsed, resizing);
    }

    /// <summary>
    /// Throws when the generator's heads were trained on another ResNet-18 file than the one this process exports
    /// (a head is only right on the backbone it was trained on).
    /// </summary>
    /// <exception cref="TinaException">The backbones differ.</exception>
    public static void CheckBackbone(TinaGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (generator.State.Backbone is not { } trainedOn) return;
        var found = Tina.Features.BackboneFeatures.ResNet18.Backbone;
        if (found.Identity != trainedOn)
            throw new TinaException($"The generator in {generator.CheckpointDir} makes heads for the ResNet-18 file {trainedOn}, but this app has {found.ModelPath} ({found.Identity}); use the {ResNet18Backbone.PackageId} version it was trained with.");
    }

    private static TinaGeneratedClassifier Export(PModelEnsemble models, GenerateOptions options, ClassifierFormat format, TimeSpan elapsed,
        Microsoft.ML.Transforms.Image.ImageResizingEstimator.ResizingKind resizing = TinaCatalog.Defaults.Resizing)
    {
        var prompt = string.Join(", ", models.Labels);
        var method = options.Describe();
        var proto = format == ClassifierFormat.Head ? OnnxExporter.BuildHead(models, prompt, method) : OnnxExporter.BuildModel(models, prompt, method);
        if (resizing != TinaCatalog.Defaults.Resizing) OnnxExporter.SetResizeMode(proto, models.Arch, OnnxResizePolicy.ModeName(resizing));
        return new TinaGeneratedClassifier(models, proto.ToByteArray(), prompt, method, elapsed) { Format = format };
    }

    /// <summary>Whether <see cref="Onnx"/> is the whole classifier or the head alone.</summary>
    public ClassifierFormat Format { get; private init; }

    /// <summary>
    /// The classifier of p-Models already sampled with <paramref name="options"/> (e.g. one row of
    /// <see cref="TinaGenerator.GenerateEach"/>), exported to ONNX as <see cref="Generate(TinaGenerator, IReadOnlyList{ClassPrompt}, GenerateOptions?, ClassifierFormat)"/> exports.
    /// </summary>
    public static TinaGeneratedClassifier FromModels(PModelEnsemble models, GenerateOptions options, ClassifierFormat format = ClassifierFormat.OneFile)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(options);
        return Export(models, options, format, TimeSpan.Zero);
    }

    /// <summary>
    /// The fitted ML.NET chain that applies this classifier (see <see cref="TinaClassifierEstimator"/>) to image files
    /// (input <see cref="TinaImageInput"/>) or, with <paramref name="inMemoryImages"/>, to <c>MLImage</c>s (input
    /// <see cref="TinaInMemoryImageInput"/>). Save it with <see cref="TinaMLNetModel.Save"/> and the matching input schema.
    /// </summary>
    public TransformerChain<ITransformer> ToMLNet(MLContext mlContext, bool inMemoryImages = false)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var o = Columns(new TinaClassifierOptions { InputColumnName = inMemoryImages ? TinaCatalog.Defaults.ImageColumnName : TinaCatalog.Defaults.ImagePathColumnName });
        var input = inMemoryImages ? TinaMLNetModel.EmptyImageInput(mlContext) : TinaMLNetModel.EmptyInput(mlContext);
        return mlContext.Transforms.ApplyTinaClassifier(o).Fit(input);
    }

    /// <summary>The options of the classifier estimator for this model with the columns of <paramref name="columns"/> (its model fields ignored).</summary>
    internal TinaClassifierOptions Columns(TinaClassifierOptions? columns) => new()
    {
        OnnxModel = Onnx,
        InputColumnName = columns?.InputColumnName ?? TinaCatalog.Defaults.ImagePathColumnName,
        ImageFolder = columns?.ImageFolder,
        PredictedLabelColumnName = columns?.PredictedLabelColumnName ?? TinaCatalog.Defaults.PredictedLabelColumnName,
        ScoreColumnName = columns?.ScoreColumnName ?? TinaCatalog.Defaults.ScoreColumnName,
        ClassIndexColumnName = columns?.ClassIndexColumnName ?? TinaCatalog.Defaults.ClassIndexColumnName,
        Resizing = columns?.Resizing ?? TinaCatalog.Defaults.Resizing,
    };
}
