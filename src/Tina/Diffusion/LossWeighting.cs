using Tina.PModels;

namespace Tina.Diffusion;

/// <summary>
/// How the x0 loss weighs the parameters of a p-Model. The paper (and the released code) take the plain mean over all
/// parameters; for CNN-5K that leaves the classifier — the only part that depends on the prompt, 330 of 5,370
/// numbers — 6 % of the loss, next to conv weights that barely differ across the zoo.
/// </summary>
public enum LossWeighting
{
    /// <summary>Plain mean squared error over all parameters (the paper).</summary>
    Uniform,

    /// <summary>Each tensor (conv1.weight, …, fc.weight, fc.bias) gets the same share of the loss, whatever its size.</summary>
    PerTensor,

    /// <summary>
    /// The classifier (fc.weight, fc.bias) weighs 1 per number, every other tensor <see cref="LossWeights.BodyWeight"/>:
    /// CNN-5K's convolutions, the same in every p-Model of a zoo, stop drowning the prompt-dependent rows (a small
    /// generator then learns to follow the prompt; docs/RESULTS.md). Same as uniform for a head-only p-Model.
    /// </summary>
    Classifier,
}

/// <summary>Per-parameter loss weights for a <see cref="LossWeighting"/>.</summary>
public static class LossWeights
{
    /// <summary>Weight per number of the non-classifier tensors under <see cref="LossWeighting.Classifier"/> (chosen by measurement).</summary>
    public const float BodyWeight = 0.01f;

    /// <summary>
    /// Weights [P] in <paramref name="layout"/> order: all ones for <see cref="LossWeighting.Uniform"/>;
    /// P / (tensors × tensor size) for <see cref="LossWeighting.PerTensor"/>, so every tensor's weights sum to P / tensors
    /// (mean 1); 1 for the classifier and <see cref="BodyWeight"/> elsewhere for <see cref="LossWeighting.Classifier"/>.
    /// The loss is the weighted mean, so only the ratios matter.
    /// </summary>
    public static float[] For(ParameterLayout layout, LossWeighting weighting)
    {
        var w = new float[layout.Count];
        if (weighting == LossWeighting.Uniform)
        {
            Array.Fill(w, 1f);
            return w;
        }
        if (weighting == LossWeighting.Classifier)
        {
            foreach (var e in layout.Entries)
                Array.Fill(w, e.Name.StartsWith("fc.", StringComparison.Ordinal) ? 1f : BodyWeight, e.Offset, e.Length);
            return w;
        }
        if (weighting != LossWeighting.PerTensor) throw new ArgumentOutOfRangeException(nameof(weighting));
        foreach (var e in layout.Entries)
        {
            int size = (int)e.Shape.Aggregate(1L, (a, b) => a * b);
            Array.Fill(w, (float)((double)layout.Count / (layout.Entries.Count * size)), e.Offset, size);
        }
        return w;
    }
}
