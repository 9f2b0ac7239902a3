using System.Text.Json.Serialization;
using Tina.Diffusion;
using static TorchSharp.torch;

namespace Tina.Generation;

/// <summary>
/// Settings of Tina's diffusion training (§2.2, A.5; see docs/tina-facts.md "Training"): AdamW (0.9, 0.999), lr 1e-3 (paper 4e-4),
/// weight decay 0.1 on matrices only, warm-up then cosine, global gradient-norm clipping 0.1, an EMA copy of the
/// weights, classifier augmentation, and classification sequence padding with varying class counts. The settings a
/// result was measured with are a recipe's (<see cref="FromRecipe"/>, e.g.
/// <c>TinaTrainingOptions.FromRecipe(Recipes.For(arch))</c>), which <c>tina train</c> starts from; a bare record's values are the
/// generic starting point below.
/// </summary>
public sealed record TinaTrainingOptions
{
    /// <summary>The generator training options of <paramref name="recipe"/> (seed 0, the paper's training tricks on), naming it.</summary>
    public static TinaTrainingOptions FromRecipe(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var g = recipe.Generator;
        return new()
        {
            Recipe = recipe.Name, ConfigName = g.Config, Epochs = g.Epochs, BatchSize = g.BatchSize, LearningRate = g.LearningRate,
            Normalization = g.Normalization, LossWeighting = g.LossWeighting, Tokens = g.Tokens, Start = g.Start, TaskMixup = g.TaskMixup,
        };
    }

    /// <summary>
    /// The name of the <see cref="Tina.Recipe"/> these options come from (<see cref="FromRecipe"/>),
    /// recorded in the checkpoint (<see cref="TinaCheckpointState.Recipe"/>); null: none. Not part of the run's identity.
    /// </summary>
    [JsonIgnore]
    public string? Recipe { get; init; }

    /// <summary>Transformer size preset: <c>tiny</c>, <c>small</c>, <c>base</c> or <c>paper</c> (see <see cref="TinaConfig"/>).</summary>
    public string ConfigName { get; init; } = "small";

    /// <summary>
    /// How the classifier is cut into tokens and the class texts are read (<see cref="TokenLayout"/>): shared slots by
    /// default (not in the paper; docs/RESULTS.md); the paper's per-slot rows or chunks, or the merged-text-token
    /// ablation on either, otherwise.
    /// </summary>
    public TokenLayout Tokens { get; init; } = TokenLayout.SharedSlots;

    /// <summary>Epochs over the zoo's training p-Models (the paper: 300–400 over ~1,000 p-Models).</summary>
    public int Epochs { get; init; } = 300;

    /// <summary>p-Models per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Peak learning rate (the paper: 4e-4; 1e-3 trained the CPU-sized generators faster, docs/RESULTS.md).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// AdamW weight decay of the decay group (matrices); biases, LayerNorm and the positional embedding get none. Fixed:
    /// 1 instead of 0.1 measured no gain (docs/RESULTS.md).
    /// </summary>
    public const double WeightDecay = 0.1;

    /// <summary>Linear warm-up epochs before the cosine decay (capped at half of the run).</summary>
    public int WarmupEpochs { get; init; } = 5;

    /// <summary>Maximum global L2 norm of the gradient (0 disables clipping).</summary>
    public double GradientClip { get; init; } = 0.1;

    /// <summary>Decay of the exponential moving average of the weights kept beside the raw ones.</summary>
    public double EmaDecay { get; init; } = 0.9999;

    /// <summary>
    /// EMA warm-up: the decay used at update n is min(<see cref="EmaDecay"/>, (1 + n) / (10 + n)), so short runs get
    /// a meaningful average instead of (almost) the initial weights. Off = the constant decay of the released code.
    /// </summary>
    public bool EmaWarmup { get; init; } = true;

    /// <summary>Seed of the initial weights, the data order, the augmentation and the diffusion noise.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// What the class tokens are conditioned on: names (the default), the dataset's built-in class descriptions, or
    /// either at random per slot and step. The texts trained on are stored with the checkpoint.
    /// </summary>
    public PromptKind Prompts { get; init; } = PromptKind.Names;

    /// <summary>
    /// The class descriptions (class name → description) used by <see cref="Prompts"/> other than names; null: the
    /// built-in descriptions of the zoo's dataset (<see cref="Text.ClassDescriptions.LoadBuiltIn"/>). The texts
    /// themselves are stored with the checkpoint, so this is not saved in its options.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string>? Descriptions { get; init; }

    /// <summary>
    /// The text to encode for some class names instead of the name itself (e.g. common words for a name the encoder
    /// does not know), wherever names are trained on (<see cref="PromptKind.Names"/> and <see cref="PromptKind.Mixed"/>);
    /// the checkpoint stores the embedding under the class name, so prompts keep using the name. Null: every name is
    /// encoded as it is.
    /// </summary>
    [JsonIgnore]
    public IReadOnlyDictionary<string, string>? ClassTexts { get; init; }

    /// <summary>Classifier augmentation: shuffle each drawn p-Model's class order with its fc rows (on by default).</summary>
    public bool ClassifierAugmentation { get; init; } = true;

    /// <summary>
    /// G.pt's neuron-permutation augmentation (an ablation; off by default, the paper finds it hurts): each drawn
    /// CNN-5K p-Model gets a random permutation of its hidden channels, which computes the same function
    /// (<see cref="Diffusion.NeuronPermutationAugmentation"/>). CNN-5K only: the ResNet-20 head has no hidden neurons.
    /// </summary>
    public bool NeuronPermutation { get; init; }

    /// <summary>
    /// Probability that a drawn sample is trained with a random prefix of 1…C of its (shuffled) classes, so that Tina
    /// learns prompts shorter than the zoo's tasks. The C'-class p-Model is the first C' rows of fc (and fc.bias) of
    /// the classifier-augmented p-Model, the conv weights of CNN-5K staying as they are; the other rows are masked
    /// and their class slots get the '&lt;-&gt;' token. This truncated p-Model is an approximation (it was fine-tuned
    /// with C classes, not C'); the paper's sequence padding makes the same approximation. 0 disables it.
    /// </summary>
    public double VaryClassCountProbability { get; init; } = 0.5;

    /// <summary>
    /// Classification sequence padding (§2.2.3; on by default). Off is the paper's ablation of it: the generator is
    /// trained only on the zoo's tasks of exactly <see cref="MaxClasses"/> classes, so it never sees the '&lt;-&gt;'
    /// token or a masked classifier row, and a shorter prompt at generation fills its free slots with a token it has
    /// not learned. Needs <see cref="VaryClassCountProbability"/> 0 (random prefixes are padded sequences).
    /// </summary>
    public bool ClassificationSequencePadding { get; init; } = true;

    /// <summary>
    /// Few-shot image prompts (the paper's Figure 6a): when above 0, each class slot is conditioned, with probability
    /// <see cref="ImagePromptShare"/>, on this many of its class's training images (through an
    /// <see cref="ImagePrompts.ImagePromptPool"/> given to the trainer) instead of its text. 0 = text only.
    /// </summary>
    public int ImagePromptShots { get; init; }

    /// <summary>Share of class slots conditioned on images when <see cref="ImagePromptShots"/> is above 0.</summary>
    public double ImagePromptShare { get; init; } = 0.5;

    /// <summary>The image-prompt projector's file (recorded so a resumed run checks it is the same).</summary>
    public string? ImagePromptProjector { get; init; }

    /// <summary>
    /// Start from another generator's weights (its EMA weights, for model and EMA alike) instead of a fresh
    /// initialisation: a short fine-tune, e.g. on image prompts. Its transformer config, architecture and text encoder
    /// must be this run's.
    /// </summary>
    public string? InitFrom { get; init; }

    /// <summary>How parameters are normalised before diffusion (the released code: none; each recipe's: <see cref="GeneratorRecipe.Normalization"/>).</summary>
    public ParameterNormalization Normalization { get; init; } = ParameterNormalization.None;

    /// <summary>
    /// How the x0 loss weighs the parameters (the paper: uniform). Default: the classifier fully, the rest lightly —
    /// the only setting under which a CPU-sized generator learned CNN-5K's prompt-dependent rows (see
    /// <see cref="Diffusion.LossWeighting"/>); for a head-only p-Model it is the same as uniform.
    /// </summary>
    public LossWeighting LossWeighting { get; init; } = LossWeighting.Classifier;

    /// <summary>
    /// What the diffusion generates a head's rows from (the paper: the rows themselves). Head-only architectures and
    /// name prompts only.
    /// </summary>
    public RowStart Start { get; init; } = RowStart.None;

    /// <summary>
    /// The share of training samples blended with another sample of their batch (<see cref="Diffusion.TaskMixup"/>;
    /// the paper: 0). Head-only architectures only.
    /// </summary>
    public double TaskMixup { get; init; }

    /// <summary>Class slots of the prompt (the paper: 10); must be at least the zoo's classes per task.</summary>
    public int MaxClasses { get; init; } = SequencePadding.DefaultMaxClasses;

    /// <summary>
    /// Commit a checkpoint every this many epochs (and after the last one). Base-size checkpoints with optimizer state
    /// are about half a gigabyte, so small zoos (few steps per epoch) may want more than 1. Not part of the run's
    /// identity: a run may resume with another value.
    /// </summary>
    [JsonIgnore]
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Compute device (not saved in checkpoints; a run may resume on another device).</summary>
    [JsonIgnore]
    public Device? Device { get; init; }

    /// <summary>The transformer configuration of <see cref="ConfigName"/> for text embeddings of <paramref name="textDim"/>.</summary>
    /// <exception cref="TinaException">Unknown preset name, or a combination of settings the transformer cannot take.</exception>
    public TinaConfig ResolveConfig(int textDim)
    {
        var preset = ConfigName.Trim().ToLowerInvariant() switch
        {
            "tiny" => TinaConfig.Tiny,
            "small" => TinaConfig.Small,
            "base" => TinaConfig.Base,
            "paper" => TinaConfig.Paper,
            _ => throw new TinaException($"Unknown Tina config '{ConfigName}'. Use tiny, small, base or paper."),
        };
        var config = preset with
        {
            TextDim = textDim, MaxClasses = MaxClasses,
            Tokens = Tokens,
        };
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new TinaException(e.Message); }
    }

    /// <summary>Checks the values; throws <see cref="TinaException"/> naming the first bad one.</summary>
    public TinaTrainingOptions Validate()
    {
        if (Epochs < 1) throw new TinaException($"Epochs must be at least 1; got {Epochs}.");
        if (BatchSize < 1) throw new TinaException($"Batch size must be at least 1; got {BatchSize}.");
        if (!(LearningRate > 0)) throw new TinaException($"Learning rate must be positive; got {LearningRate}.");
        if (WarmupEpochs < 0 || GradientClip < 0) throw new TinaException("Warm-up epochs and gradient clip must not be negative.");
        if (EmaDecay is < 0 or >= 1) throw new TinaException($"EMA decay must be in [0, 1); got {EmaDecay}.");
        if (VaryClassCountProbability is < 0 or > 1) throw new TinaException($"The varying-class-count probability must be in [0, 1]; got {VaryClassCountProbability}.");
        if (!ClassificationSequencePadding && VaryClassCountProbability > 0)
            throw new TinaException($"Training on random class prefixes pads the sequence; without sequence padding the varying-class-count probability must be 0 (got {VaryClassCountProbability}).");
        if (ImagePromptShots < 0) throw new TinaException($"Image-prompt shots must be 0 or more; got {ImagePromptShots}.");
        if (ImagePromptShare is <= 0 or > 1) throw new TinaException($"The image-prompt share must be in (0, 1]; got {ImagePromptShare}.");
        if (CheckpointEvery < 1) throw new TinaException($"Checkpoint interval must be at least 1 epoch; got {CheckpointEvery}.");
        if (TaskMixup is < 0 or > 1 || double.IsNaN(TaskMixup)) throw new TinaException($"The task-mixup probability must be in [0, 1]; got {TaskMixup}.");
        if (MaxClasses < 1) throw new TinaException($"Max classes must be at least 1; got {MaxClasses}.");
        if (Start != RowStart.None && (Prompts != PromptKind.Names || ImagePromptShots > 0))
            throw new TinaException("Rows relative to text-to-rows are trained on class-name prompts only (no descriptions, no image prompts).");
        ResolveConfig(1);
        return this;
    }
}

/// <summary>Progress of a Tina training run, reported after every step.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">Running mean loss of the epoch.</param>
/// <param name="Eta">Estimated time to the end of the run.</param>
/// <param name="Message">Extra text (e.g. "resumed after epoch 7").</param>
public sealed record TinaTrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, TimeSpan Eta, string? Message = null)
{
    /// <summary>Fraction of the run done, 0…1.</summary>
    public double Fraction => Epochs == 0 ? 1 : ((Epoch - 1) + (double)Step / Math.Max(1, Steps)) / Epochs;
}
