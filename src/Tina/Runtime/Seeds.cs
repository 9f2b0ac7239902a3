namespace Tina.Runtime;

/// <summary>
/// Deterministic seed derivation. <see cref="HashCode"/> is randomised per process, so it must never be used to
/// derive seeds: a resumed run in a new process has to see the same data order and augmentation.
/// </summary>
public static class Seeds
{
    /// <summary>Mixes a base seed with stream identifiers (SplitMix64 finaliser) into a non-negative 31-bit seed.</summary>
    public static int Derive(int seed, params int[] streams)
    {
        ulong h = 0x9E3779B97F4A7C15UL ^ (ulong)(uint)seed;
        foreach (var s in streams)
        {
            h += 0x9E3779B97F4A7C15UL + (ulong)(uint)s;
            h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
            h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
            h ^= h >> 31;
        }
        return (int)(h & 0x7FFFFFFF);
    }

    private static readonly object GlobalGeneratorLock = new();

    /// <summary>
    /// Seeds torch's global generator and runs <paramref name="create"/> while no other caller of this method can
    /// touch it. TorchSharp's module constructors draw their initial weights from that one process-wide generator, so
    /// two trainings started at once on a server would otherwise interleave their draws and break "same seed, same
    /// weights". Keep <paramref name="create"/> short (construct modules, nothing else).
    /// </summary>
    public static T WithGlobalSeed<T>(long seed, Func<T> create)
    {
        ArgumentNullException.ThrowIfNull(create);
        lock (GlobalGeneratorLock)
        {
            TorchSharp.torch.manual_seed(seed);
            return create();
        }
    }
}
