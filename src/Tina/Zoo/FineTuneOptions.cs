namespace Tina.Zoo;

/// <summary>How each p-Model is fine-tuned from the generic model (stage 2).</summary>
public sealed record FineTuneOptions
{
    /// <summary>Epochs over the task's training images (the paper: 10).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Images per step per p-Model (the last partial batch of an epoch is dropped).</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// Peak learning rate of SGD (momentum 0.9), cosine-decayed per p-Model. Null: the learning rate of the
    /// architecture's recipe (<see cref="Recipes.For"/>).
    /// </summary>
    public double? LearningRate { get; init; }

    /// <summary>Weight decay.</summary>
    public double WeightDecay { get; init; } = 5e-4;

    /// <summary>Random crop + flip for CNN-5K (heads: see <see cref="AugmentedViews"/>).</summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// ResNet-20 heads: how many randomly augmented views (crop + flip) of the training images have their backbone
    /// features precomputed; each step draws one view per image, so heads see augmentation without rerunning the
    /// backbone. 0 (the default): heads train on features of the un-augmented images. Ignored for CNN-5K.
    /// </summary>
    public int AugmentedViews { get; init; }

    /// <summary>
    /// Label smoothing of the fine-tuning cross-entropy (0 = none). For a p-Model with padded classes (a group of mixed
    /// class counts) the smoothing mass on the masked classes has no gradient, so it is the same as training alone.
    /// </summary>
    public double LabelSmoothing { get; init; }

    /// <summary>
    /// L2-SP strength: each step adds <c>L2SP · (w − w₀)</c> to the gradient of every fine-tuned number, where w₀ is
    /// its starting value (the generic model's weights and its rows of the task's classes), on top of
    /// <see cref="WeightDecay"/>. It keeps the p-Models near the generic model, so what a task changes stays small
    /// and alike across tasks — easier for a generator to learn — at some cost in p-Acc. 0 (the default): off.
    /// </summary>
    public double L2SP { get; init; }

    /// <summary>
    /// The body's learning rate as a share of <see cref="LearningRate"/> (CNN-5K: both convolutions; the classifier keeps
    /// the full rate; heads have no body). Below 1 the convolutions move less than the classifier — less for a generator
    /// to learn per task — while the rows still fit the task. 1 (the default): one rate for all.
    /// </summary>
    public double BodyLearningRateScale { get; init; } = 1;

    /// <summary>How many p-Models train at once (the model dimension). 1 is one-at-a-time training.</summary>
    public int ModelsPerGroup { get; init; } = 8;
}
