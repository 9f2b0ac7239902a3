using Microsoft.ML.Transforms.Image;
using Tina.Diffusion;
using Tina.Generation;
using Tina.Text;

namespace Tina.MLNet.MLNet;

/// <summary>
/// Options of <see cref="TinaGenerateEstimator"/> (<c>mlContext.Transforms.TinaGenerate(options)</c>): which trained
/// Tina generator, which prompt (class list), how to sample, and the columns of the resulting image classifier.
/// Set exactly one of <see cref="GeneratorPath"/> and <see cref="Generator"/>.
/// </summary>
public sealed class TinaGenerateOptions
{
    /// <summary>Folder of a Tina checkpoint written by <c>tina train</c> / <see cref="TinaTrainer"/>; loaded when the estimator fits.</summary>
    public string? GeneratorPath { get; set; }

    /// <summary>An already loaded generator (not owned), alternative to <see cref="GeneratorPath"/>; lets many pipelines share one.</summary>
    public TinaGenerator? Generator { get; set; }

    /// <summary>The prompt: class names in output order (1 to 10, distinct). Output i of the classifier is <c>Classes[i]</c>.</summary>
    public IReadOnlyList<string> Classes { get; set; } = [];

    /// <summary>
    /// The text encoder the generator was trained with (not owned); needed only for class names outside the training
    /// zoo's, whose embeddings are stored in the checkpoint. Used with <see cref="GeneratorPath"/>.
    /// </summary>
    public ITextEncoder? TextEncoder { get; set; }

    /// <summary>The sampler (default DDIM).</summary>
    public DiffusionSampler Sampler { get; set; } = DiffusionSampler.Ddim;

    /// <summary>Sampling steps; null = the sampler's default (DDIM 50, DDPM 1,000).</summary>
    public int? Steps { get; set; }

    /// <summary>Seed of the sampling noise; the same seed gives the same classifier.</summary>
    public long Seed { get; set; }

    /// <summary>Sample with the EMA weights (true, default) or the raw weights.</summary>
    public bool UseEma { get; set; } = true;

    /// <summary>
    /// Seed-ensemble size K (1 to 16; default 1): generate K p-Models for the prompt (member seeds derived from
    /// <see cref="Seed"/>, see <see cref="GenerateOptions.MemberSeeds"/>) and classify with the mean of their softmax
    /// probabilities, all in one ONNX graph. 1 gives exactly the single generated classifier.
    /// </summary>
    public int Ensemble { get; set; } = 1;

    /// <summary>Input column of type text with the path of each image file (relative to <see cref="ImageFolder"/> if set).</summary>
    public string ImagePathColumnName { get; set; } = TinaClassifierOptions.DefaultImagePathColumnName;

    /// <summary>Folder the image paths are relative to; null for paths used as they are.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>Output column with the predicted label (a text vector of one element).</summary>
    public string PredictedLabelColumnName { get; set; } = TinaClassifierOptions.DefaultPredictedLabelColumnName;

    /// <summary>Output column with the softmax probabilities (a float vector of C elements).</summary>
    public string ScoreColumnName { get; set; } = TinaClassifierOptions.DefaultScoreColumnName;

    /// <summary>Output column with the predicted class index (an int64 vector of one element).</summary>
    public string ClassIndexColumnName { get; set; } = TinaClassifierOptions.DefaultClassIndexColumnName;

    /// <summary>How images that are not 32×32 are brought to 32×32.</summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; set; } = ImageResizingEstimator.ResizingKind.IsoCrop;

    /// <summary>The sampling settings as <see cref="GenerateOptions"/>.</summary>
    public GenerateOptions ToGenerateOptions() => new() { Sampler = Sampler, Steps = Steps, Seed = Seed, UseEma = UseEma, EnsembleSize = Ensemble };
}
