using Tina.IO;
using Tina.Tasks;

namespace Tina.Zoo;

/// <summary>A stored p-Model: its task, split and p-Acc, and its parameter vector.</summary>
/// <param name="Task">Task description from the manifest.</param>
/// <param name="PAcc">p-Acc (%) measured when it was trained.</param>
/// <param name="Parameters">Flat parameters.</param>
public sealed record ZooEntry(ZooTask Task, double PAcc, float[] Parameters)
{
    /// <summary>The task as a <see cref="PersonalizationTask"/>.</summary>
    public PersonalizationTask AsTask() => new(Task.Classes, Task.Names);
}

/// <summary>Reads a zoo folder written by <see cref="ZooBuilder"/>.</summary>
public static class ZooReader
{
    /// <summary>All finished p-Models of the zoo in <paramref name="dir"/>, in task order.</summary>
    /// <exception cref="CorruptFileException">A shard does not match the manifest.</exception>
    public static IReadOnlyList<ZooEntry> ReadAll(string dir, out ZooManifest manifest)
    {
        manifest = ZooManifest.Load(dir);
        var entries = new List<ZooEntry>();
        foreach (var shard in manifest.Shards.OrderBy(s => s.First))
        {
            var path = Path.Combine(dir, shard.File);
            var (tensors, _) = SafeTensors.Load(path);
            if (!tensors.TryGetValue("parameters", out var t) || t.Shape.Length != 2 || t.Shape[0] != shard.Count || t.Shape[1] != manifest.ParameterCount)
                throw new CorruptFileException(path, $"expected a 'parameters' tensor of shape [{shard.Count}, {manifest.ParameterCount}]");
            for (int i = 0; i < shard.Count; i++)
                entries.Add(new ZooEntry(manifest.Tasks[shard.First + i], shard.PAcc[i], t.Data.AsSpan(i * manifest.ParameterCount, manifest.ParameterCount).ToArray()));
        }
        return entries;
    }
}
