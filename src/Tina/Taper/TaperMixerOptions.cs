namespace Tina.Taper;

/// <summary>
/// How the TAPER-Mixer baseline is trained (the paper's appendix A.4): two experts fine-tuned from the generic model
/// on two class shards, then an MLP mixer that maps a task's text embedding to the experts' mixing weights.
/// </summary>
public sealed record TaperMixerOptions
{
    /// <summary>Experts (base models), each fine-tuned on its own shard of the classes. The paper: 2.</summary>
    public int Experts { get; init; } = 2;

    /// <summary>Fine-tuning epochs of each expert over its shard's training images. The paper: 5.</summary>
    public int ExpertEpochs { get; init; } = 5;

    /// <summary>Peak SGD learning rate (momentum 0.9, cosine) of the experts. Null: 0.01 for CNN-5K, 0.05 for ResNet-20 heads.</summary>
    public double? ExpertLearningRate { get; init; }

    /// <summary>Epochs of the mixer over the training tasks (experts frozen). The paper: 5.</summary>
    public int MixerEpochs { get; init; } = 5;

    /// <summary>AdamW learning rate of the mixer.</summary>
    public double MixerLearningRate { get; init; } = 1e-3;

    /// <summary>Hidden width of the mixer's MLP.</summary>
    public int Hidden { get; init; } = 128;

    /// <summary>Tasks per mixer step; each contributes one batch of its own training images.</summary>
    public int TasksPerStep { get; init; } = 8;

    /// <summary>Images per batch (experts) and per task in a mixer step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Seed of the class shards, data order, augmentation and the mixer's initial weights.</summary>
    public int Seed { get; init; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="TinaException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Experts < 2) throw new TinaException($"TAPER-Mixer needs at least 2 experts; got {Experts}.");
        if (ExpertEpochs < 1 || MixerEpochs < 1) throw new TinaException("TAPER-Mixer's expert and mixer epochs must be at least 1.");
        if (Hidden < 1 || TasksPerStep < 1 || BatchSize < 1) throw new TinaException("TAPER-Mixer's hidden width, tasks per step and batch size must be at least 1.");
        if (MixerLearningRate <= 0 || ExpertLearningRate is <= 0) throw new TinaException("TAPER-Mixer's learning rates must be positive.");
    }
}
