using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.Generation;
using Tina.MLNet.Export;
using Tina.PModels;

namespace Tina.MLNet.MLNet;

/// <summary>
/// Text-to-model in an ML.NET pipeline: <see cref="Fit"/> generates the personalized classifier of the prompt with a
/// trained Tina generator (no training data needed) and returns the same savable chain as
/// <see cref="TinaClassifierEstimator"/> — LoadImages → ResizeImages → ExtractPixels → ApplyOnnxModel → MapValue, the
/// generated model's ONNX bytes embedded — so the result saves and loads with <c>mlContext.Model.Save/Load</c> and
/// needs neither the generator nor TorchSharp to run. Create it with <c>mlContext.Transforms.TinaGenerate(options)</c>.
/// </summary>
/// <remarks>
/// Generation is deterministic for the options (same seed, same weights), so the p-Model is generated once per
/// estimator, on the first <see cref="Fit"/> or <see cref="GetOutputSchema"/>, and reused. With
/// <see cref="TinaGenerateOptions.Ensemble"/> K &gt; 1 the K p-Models of a seed ensemble are generated in one run and
/// embedded as one ONNX graph that averages their softmax probabilities.
/// </remarks>
public sealed class TinaGenerateEstimator : IEstimator<TransformerChain<ITransformer>>
{
    private readonly TransformsCatalog _catalog;
    private readonly TinaGenerateOptions _options;
    private readonly string[] _classes;
    private readonly Lazy<PModelEnsemble> _model;

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
        _classes = [.. options.ParseClasses(options.Generator?.MaxClasses ?? int.MaxValue)];
        _model = new Lazy<PModelEnsemble>(Generate, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The generated p-Model (generated on first use); for an ensemble, use <see cref="GeneratedEnsemble"/>.</summary>
    /// <exception cref="InvalidPromptException">The prompt is empty, too long, has duplicates or words the encoder does not know.</exception>
    /// <exception cref="InvalidOperationException">The options ask for an ensemble of more than one p-Model.</exception>
    public PModel GeneratedModel => _options.Ensemble == 1
        ? _model.Value.Members[0]
        : throw new InvalidOperationException($"The estimator generates an ensemble of {_options.Ensemble} p-Models; use {nameof(GeneratedEnsemble)}.");

    /// <summary>The generated seed ensemble (generated on first use; one member when <see cref="TinaGenerateOptions.Ensemble"/> is 1).</summary>
    /// <exception cref="InvalidPromptException">The prompt is empty, too long, has duplicates or words the encoder does not know.</exception>
    public PModelEnsemble GeneratedEnsemble => _model.Value;

    /// <summary>Generates the classifier (once) and builds the chain of transformers; <paramref name="input"/> only needs the image-path column.</summary>
    public TransformerChain<ITransformer> Fit(IDataView input) => Classifier().Fit(input);

    /// <summary>The schema after the transformers: the input columns plus the label, score and class-index columns.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => Classifier().GetOutputSchema(inputSchema);

    private TinaClassifierEstimator Classifier()
    {
        var o = _options;
        var ensemble = _model.Value;
        var prompt = string.Join(", ", ensemble.Labels);
        var method = o.ToGenerateOptions().Describe();
        return new TinaClassifierEstimator(_catalog, new TinaClassifierOptions
        {
            PModel = ensemble.Count == 1 ? ensemble.Members[0] : null,
            OnnxModel = ensemble.Count == 1 ? null : OnnxExporter.Export(ensemble, prompt, method),
            Prompt = prompt,
            Method = method,
            ImagePathColumnName = o.ImagePathColumnName,
            ImageFolder = o.ImageFolder,
            PredictedLabelColumnName = o.PredictedLabelColumnName,
            ScoreColumnName = o.ScoreColumnName,
            ClassIndexColumnName = o.ClassIndexColumnName,
            Resizing = o.Resizing,
        });
    }

    private PModelEnsemble Generate()
    {
        if (_options.Generator is { } shared) return shared.GenerateEnsemble(_classes, _options.ToGenerateOptions());
        using var generator = TinaGenerator.Load(_options.GeneratorPath!, _options.TextEncoder);
        return generator.GenerateEnsemble(_classes, _options.ToGenerateOptions());
    }
}
