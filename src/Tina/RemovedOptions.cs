namespace Tina;

/// <summary>
/// Options removed because they measured no gain (docs/RESULTS.md keeps their tables). A checkpoint that still uses one
/// is refused with a message naming <see cref="LastCommit"/>, where the option still exists.
/// </summary>
internal static class RemovedOptions
{
    /// <summary>The last commit with <c>--relative-to</c>, <c>--normalize center|standardize</c>, <c>--mix-tasks</c>, <c>--dropout</c>, <c>--weight-decay</c>, <c>--chunk-size</c> and <c>--text-noise</c> on <c>tina train</c>.</summary>
    public const string LastCommit = "adedade";
}
