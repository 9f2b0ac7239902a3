namespace Tina.Diffusion;

/// <summary>How p-Model parameters are scaled before diffusion (see <see cref="ParameterNormalizer"/>).</summary>
public enum ParameterNormalization
{
    /// <summary>Raw parameters, as in Tina's released code.</summary>
    None,

    /// <summary>G.pt: multiply every parameter by 0.538 / std, the std taken over the whole zoo.</summary>
    GlobalScale,

    /// <summary>p-diff style: z-score each tensor (conv1.weight, …, fc.bias) with its mean and std over the zoo.</summary>
    PerTensor,

    /// <summary>
    /// Subtract the zoo's mean p-Model, no scaling (not in the paper): every parameter its own mean over the zoo, except
    /// that the classifier rows share one mean row and the biases one mean, so classifier augmentation still commutes
    /// with it. The diffusion then models only how p-Models differ; CNN-5K's convolutions, large but nearly the same in
    /// every p-Model, no longer dominate the loss (docs/RESULTS.md).
    /// </summary>
    Center,

    /// <summary>
    /// Like <see cref="Center"/>, and each parameter also divided by its own standard deviation over the zoo (the
    /// classifier rows share one per feature, the biases one), not in the paper: every number's spread across tasks
    /// becomes 1, so the diffusion models what varies from task to task at the scale it varies, and its errors come
    /// back scaled down where the zoo barely varies (docs/RESULTS.md).
    /// </summary>
    Standardize,
}
