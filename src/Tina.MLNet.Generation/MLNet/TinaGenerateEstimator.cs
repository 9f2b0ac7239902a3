using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.PModels;

namespace Tina.MLNet.Generation;

/// <summary>
/// Text-to-model in an ML.NET pipeline: <see cref="Fit"/> generates the personalized classifier of the prompt with a
/// trained Tina generator (no training data needed) and returns the same savable chain as
/// <see cref="TinaClassifierEstimator"/> — [LoadImages] → ResizeImages → ExtractPixels → ApplyOnnxModel → MapValue, the
/// generated model's ONNX bytes embedded — so the result saves and loads with <c>mlContext.Model.Save/Load</c> and
/// needs neither the generator nor TorchSharp to run. Create it with <c>mlContext.Transforms.TinaGenerate(options)</c>.
/// </summary>
/// <remarks>
/// Generation is deterministic for the options (same seed, same weights), so the classifier is generated once per
/// estimator, on the first <see cref="Fit"/> (through <see cref="TinaGeneratedClassifier.Generate(Tina.Generation.TinaGenerator, IReadOnlyList{Tina.Generation.ClassPrompt}, Tina.Generation.GenerateOptions?, ClassifierFormat)"/>, the path the CLI
/// uses too), and reused. <see cref="GetOutputSchema"/> does not generate: the schema depends only on the class list.
/// With <see cref="TinaGenerateOptions.Ensemble"/> K &gt; 1 the K p-Models of a seed ensemble are generated in one run
/// and embedded as one ONNX graph that averages their softmax probabilities.
/// </remarks>
public sealed class TinaGenerateEstimator : IEstimator<TransformerChain<ITransformer>>
{
    private readonly TransformsCatalog _catalog;
    private readonly TinaGenerateOptions _options;
    private readonly Tasks.ClassList _classes; // parsed once; the generation path only checks its length
    private readonly SemaphoreSlim _gate = new(1, 1);
    private TinaGeneratedClassifier? _generated;

    /// <summary>
    /// Creates the estimator; prefer the catalog extension <c>TinaGenerate</c>. The prompt is parsed and checked here
    /// (<see cref="TinaGenerateOptions.ParseClasses"/>); the generator's limit on the number of classes and its
    /// vocabulary are checked when the model is generated.
    /// </summary>
    /// <exception cref="ArgumentException">Neither or both of the generator path and the generator are set, or neither or both of the prompt and the class list.</exception>
    /// <exception cref="InvalidPromptException">The class list is empty, too long, or has an invalid or repeated name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="TinaGenerateOptions.Ensemble"/> is not 1 to 16.</exception>
    public TinaGenerateEstimator(TransformsCatalog catalog, TinaGenerateOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.GeneratorPath) == (options.Generator is null))
            throw new ArgumentException($"Set exactly one of {nameof(TinaGenerateOptions.GeneratorPath)} and {nameof(TinaGenerateOptions.Generator)}.", nameof(options));
        PModelEnsemble.CheckSize(options.Ensemble, nameof(TinaGenerateOptions.Ensemble));
        _catalog = catalog;
        _options = options;
        _classes = options.ParseClasses(options.Generator?.MaxClasses ?? int.MaxValue);
    }

    /// <summary>The generated p-Model (generated on first use); for an ensemble, use <see cref="GeneratedEnsemble"/>.</summary>
    /// <exception cref="InvalidPromptException">The prompt is empty, too long, has duplicates or words the encoder does not know.</exception>
    /// <exception cref="InvalidOperationException">The options ask for an ensemble of more than one p-Model.</exception>
    public PModel GeneratedModel => _options.Ensemble == 1
        ? Generated.Models.Members[0]
        : throw new InvalidOperationException($"The estimator generates an ensemble of {_options.Ensemble} p-Models; use {nameof(GeneratedEnsemble)}.");

    /// <summary>The generated seed ensemble (generated on first use; one member when <see cref="TinaGenerateOptions.Ensemble"/> is 1).</summary>
    /// <exception cref="InvalidPromptException">The prompt is empty, too long, has duplicates or words the encoder does not know.</exception>
    public PModelEnsemble GeneratedEnsemble => Generated.Models;

    /// <summary>The generated classifier with its ONNX bytes (generated on first use).</summary>
    /// <exception cref="InvalidPromptException">The prompt is empty, too long, has duplicates or words the encoder does not know.</exception>
    public TinaGeneratedClassifier Generated
    {
        get
        {
            if (Volatile.Read(ref _generated) is { } done) return done;
            _gate.Wait();
            try
            {
                return _generated ??= Generate(CancellationToken.None);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>
    /// The generated classifier (generated on first use, on a thread-pool thread, and kept): for ASP.NET Core
    /// endpoints and other async code. <paramref name="cancellationToken"/> stops a generation between two diffusion
    /// steps; a cancelled or failed generation is not kept, so the next call tries again.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="TinaFileNotFoundException">The generator folder is missing, or a class needs the text encoder and its data is not set up (see <see cref="TinaGenerateOptions.AllowDownload"/>).</exception>
    /// <exception cref="InvalidPromptException">Too many classes for the generator, or a class the encoder cannot encode.</exception>
    public async Task<TinaGeneratedClassifier> GenerateAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _generated) is { } done) return done;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _generated ??= await Task.Run(() => Generate(cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// As <see cref="Fit"/>, asynchronously: generates the classifier with <see cref="GenerateAsync"/> (cancellable) and
    /// builds the same chain.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TransformerChain<ITransformer>> FitAsync(IDataView input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        var generated = await GenerateAsync(cancellationToken).ConfigureAwait(false);
        return new TinaClassifierEstimator(_catalog, generated.Columns(ColumnOptions())).Fit(input);
    }

    /// <summary>Generates the classifier (once) and builds the chain of transformers; <paramref name="input"/> only needs the image column.</summary>
    /// <exception cref="TinaFileNotFoundException">The generator folder is missing, or a class needs the text encoder and its data is not set up (see <see cref="TinaGenerateOptions.AllowDownload"/>).</exception>
    /// <exception cref="InvalidPromptException">Too many classes for the generator, or a class the encoder cannot encode.</exception>
    public TransformerChain<ITransformer> Fit(IDataView input) =>
        new TinaClassifierEstimator(_catalog, Generated.Columns(ColumnOptions())).Fit(input);

    /// <summary>
    /// The schema after the transformers: the input columns plus the label, score and class-index columns. Computed
    /// from the column options and the number of classes alone
    /// (<see cref="TinaClassifierEstimator.GetOutputSchema(SchemaShape, TinaClassifierOptions, int, ClassifierFormat)"/>):
    /// no generator is loaded and no model is made.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither text, bytes nor an image.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        TinaClassifierEstimator.GetOutputSchema(inputSchema, ColumnOptions(), _classes.Count, _options.Format);

    private TinaClassifierOptions ColumnOptions() => new()
    {
        InputColumnName = _options.InputColumnName,
        ImageFolder = _options.ImageFolder,
        PredictedLabelColumnName = _options.PredictedLabelColumnName,
        ScoreColumnName = _options.ScoreColumnName,
        ClassIndexColumnName = _options.ClassIndexColumnName,
        Resizing = _options.Resizing,
    };

    private TinaGeneratedClassifier Generate(CancellationToken cancellationToken)
    {
        if (_options.Generator is { } shared) return Generate(shared, cancellationToken);
        using var generator = _options.TextEncoder is { } encoder
            ? TinaGenerator.Load(_options.GeneratorPath!, encoder)
            : TinaGenerator.Load(_options.GeneratorPath!, Text.TextEncoders.Opener(new Text.TextEncoderOptions
            {
                DataDirectory = _options.TextEncoderDirectory,
                AllowDownload = _options.AllowDownload,
            }));
        return Generate(generator, cancellationToken);
    }

    /// <summary>The one generation path (<see cref="TinaGeneratedClassifier"/>), the classes parsed against the generator's maximum.</summary>
    private TinaGeneratedClassifier Generate(TinaGenerator generator, CancellationToken cancellationToken) =>
        TinaGeneratedClassifier.Generate(generator, ClassPrompt.OfNames(Tasks.ClassList.Parse(_classes, generator.MaxClasses)),
            _options.ToGenerateOptions(), _options.Format, cancellationToken, _options.Resizing);
}
