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
}
