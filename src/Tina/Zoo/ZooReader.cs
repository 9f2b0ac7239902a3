using Tina.IO;
using Tina.Tasks;

namespace Tina.Zoo;

/// <summary>A stored p-Model: its task, split and p-Acc, and its parameter vector.</summary>
/// <param name="Task">Task description from the manifest.</param>
/// <param name="PAcc">p-Acc (%) measured when it was trained.</param>
/// <param name="Parameters">Flat parameters in the layout of the task's own class count.</param>
public sealed record ZooEntry(ZooTask Task, double PAcc, float[] Parameters)
{
    /// <summary>The task as a <see cref="PersonalizationTask"/>.</summary>
    public PersonalizationTask AsTask() => new(Task.Classes, Task.Names);
}

/// <summary>
/// Reads a zoo folder written by <see cref="ZooBuilder"/>. Shards store every p-Model in the layout of the zoo's
/// largest class count; an entry is cut back to its own task's classes.
/// </summary>
public static class ZooReader
{
    /// <summary>All finished p-Models of the zoo in <paramref name="dir"/>, in task order.</summary>
    /// <exception cref="CorruptFileException">A shard does not match the manifest.</exception>
    public static IReadOnlyList<ZooEntry> ReadAll(string dir, out ZooManifest manifest)
    {
        manifest = ZooManifest.Load(dir);
        return ReadAll(dir, manifest);
    }

    /// <summary>All finished p-Models of the zoo in <paramref name="dir"/> whose manifest, <paramref name="manifest"/>, was already read.</summary>
    /// <exception cref="CorruptFileException">A shard does not match the manifest.</exception>
    public static IReadOnlyList<ZooEntry> ReadAll(string dir, ZooManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var entries = new List<ZooEntry>();
        var stored = PModels.ParameterLayout.For(PModels.PModelArchNames.Parse(manifest.Arch), manifest.ClassesPerTask);
        if (stored.Count != manifest.ParameterCount) throw new CorruptFileException(Path.Combine(dir, ZooManifest.FileName), $"a {manifest.ClassesPerTask}-class {manifest.Arch} p-Model has {stored.Count} parameters, not {manifest.ParameterCount}");
        foreach (var shard in manifest.Shards.OrderBy(s => s.First))
        {
            var path = Path.Combine(dir, shard.File);
            var (tensors, _) = SafeTensors.Load(path);
            if (!tensors.TryGetValue("parameters", out var t) || t.Shape.Length != 2 || t.Shape[0] != shard.Count || t.Shape[1] != manifest.ParameterCount)
                throw new CorruptFileException(path, $"expected a 'parameters' tensor of shape [{shard.Count}, {manifest.ParameterCount}]");
            for (int i = 0; i < shard.Count; i++)
            {
                var task = manifest.Tasks[shard.First + i];
                var vector = t.Data.AsSpan(i * manifest.ParameterCount, manifest.ParameterCount).ToArray();
                entries.Add(new ZooEntry(task, shard.PAcc[i], task.Classes.Length == stored.NumClasses ? vector : stored.Resize(vector, task.Classes.Length)));
            }
        }
        return entries;
    }
}
