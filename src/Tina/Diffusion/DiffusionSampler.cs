namespace Tina.Diffusion;

/// <summary>How <see cref="GaussianDiffusion"/> turns noise into p-Model parameters.</summary>
public enum DiffusionSampler
{
    /// <summary>
    /// Ancestral DDPM (the paper's sampler): x_{t−1} = coef1·x̂0 + coef2·x_t + √β_t·z with the fixed large variance β_t,
    /// over all 1,000 steps (or over evenly spaced steps with the betas respaced accordingly).
    /// </summary>
    Ddpm,

    /// <summary>Deterministic DDIM (η = 0) over evenly spaced steps: x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·ε̂.</summary>
    Ddim,
}
