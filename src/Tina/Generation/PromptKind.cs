namespace Tina.Generation;

/// <summary>What a generator's class tokens are conditioned on during training (the paper's Figure 6c / Table 5 study).</summary>
public enum PromptKind
{
    /// <summary>Each class's name ("apple"), as the paper trains.</summary>
    Names,

    /// <summary>Each class's natural-language description, which never names it (<see cref="Text.ClassDescriptions"/>).</summary>
    Descriptions,

    /// <summary>Per class slot and step, the name or the description at random (half each).</summary>
    Mixed,
}
