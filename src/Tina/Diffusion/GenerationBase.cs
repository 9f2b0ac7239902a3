namespace Tina.Diffusion;

/// <summary>What the diffusion generates: a p-Model's parameters, or how they differ from a starting p-Model.</summary>
public enum GenerationBase
{
    /// <summary>The p-Model's parameters themselves (the paper).</summary>
    None,

    /// <summary>
    /// The change from the task's classifier-selection p-Model (the generic model's weights with the rows of the
    /// prompt's classes), which is where fine-tuning started. A zero output is classifier selection; the diffusion
    /// models only what fine-tuning added. Not in the paper (docs/RESULTS.md, "Generating the change from classifier
    /// selection").
    /// </summary>
    ClassifierSelection,
}
