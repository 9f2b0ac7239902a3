namespace Tina.Generic;

/// <summary>The JSON card saved next to a generic model's weights: what it is and how well it did.</summary>
public sealed record GenericModelCard
{
    /// <summary>p-Model architecture name (cnn5k / resnet20).</summary>
    public required string Arch { get; init; }

    /// <summary>Dataset id (e.g. cifar100).</summary>
    public required string Dataset { get; init; }

    /// <summary>Class names in label order (the rows of the classifier).</summary>
    public required IReadOnlyList<string> Classes { get; init; }

    /// <summary>Epochs trained.</summary>
    public required int Epochs { get; init; }

    /// <summary>Top-1 accuracy (%) over all classes on the dataset's test split.</summary>
    public required double TestAccuracy { get; init; }

    /// <summary>Seed of initialisation, data order and augmentation.</summary>
    public required int Seed { get; init; }

    /// <summary>Optimizer and schedule, e.g. "sgd lr 0.1 momentum 0.9 wd 5e-4, cosine".</summary>
    public required string Optimizer { get; init; }

    /// <summary>Wall-clock training time in seconds.</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Format version of the card.</summary>
    public int Version { get; init; } = 1;

    /// <summary>Share of every class's training images kept out of training (0: none; see <see cref="GenericTrainingOptions.HoldoutFraction"/>).</summary>
    public double HoldoutFraction { get; init; }

    /// <summary>Seed of the held-out split.</summary>
    public int HoldoutSeed { get; init; }

    /// <summary>Top-1 accuracy (%) on the held-out training images (see <see cref="HoldoutFraction"/>), for choosing settings; null without a held-out share.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>
    /// Side of the square images the model's backbone reads: 32 for the CIFAR networks (and cards written before this
    /// field), 224 for ResNet-18 (chosen by measurement; docs/RESULTS.md, "Input size of the ResNet-18 backbone").
    /// </summary>
    public int ImageSize { get; init; } = 32;

    /// <summary>
    /// The <c>sha256:…</c> identity of the frozen external backbone the head was trained on (ResNet-18's
    /// <c>ResNet18.onnx</c>); null for networks trained whole. Loading checks it against the backbone found.
    /// </summary>
    public string? Backbone { get; init; }
}
