namespace Tina.Diffusion;

/// <summary>What the diffusion generates a head's classifier rows from.</summary>
public enum RowStart
{
    /// <summary>The rows themselves (the paper).</summary>
    None,

    /// <summary>
    /// The difference from each class's text-to-rows prediction (<c>Tina.Generic.TextToRows</c>, kept with the
    /// checkpoint): a word the generator never saw starts from the zero-shot baseline's row. Head-only p-Models and
    /// class-name prompts only. On a validation zoo with half the classes unseen, lists of unseen classes scored
    /// 46.17 % against 41.15 % for the rows themselves, seen lists the same (docs/RESULTS.md).
    /// </summary>
    TextToRows,
}
