using Tina.Data;
using Tina.Evaluation;
using Tina.Tasks;

namespace Tina.Zoo;

/// <summary>
/// The fine-tuned p-Models of a zoo, the upper bound the paper's reviewers asked for: for each of the zoo's tasks the
/// p-Acc measured when its p-Model was trained (same test split, same definition as <see cref="PAcc"/>).
/// </summary>
public static class FineTunedMethod
{
    /// <summary>Method name in reports.</summary>
    public const string Name = "finetune";

    /// <summary>
    /// p-Acc of the zoo's p-Models over the tasks of <paramref name="split"/> (<c>train</c> = ID, <c>ood</c>), the
    /// first <paramref name="maxTasks"/> of those <paramref name="where"/> keeps.
    /// </summary>
    public static PAccResult Evaluate(ZooManifest zoo, string split, int? maxTasks = null, Func<ZooTask, bool>? where = null)
    {
        var per = zoo.Shards.SelectMany(s => s.PAcc.Select((a, i) => (a, t: zoo.Tasks[s.First + i])))
            .Where(p => p.t.Split == split && (where?.Invoke(p.t) ?? true)).OrderBy(p => p.t.Index).Select(p => p.a).Take(maxTasks ?? int.MaxValue).ToArray();
        if (per.Length == 0) throw new TinaException($"The zoo has no finished p-Models for split '{split}'.");
        double mean = per.Average(), std = Math.Sqrt(per.Select(a => (a - mean) * (a - mean)).Average());
        return new PAccResult(Name, mean, std, per);
    }

    /// <summary>The zoo's tasks of <paramref name="split"/> (those <paramref name="where"/> keeps) that have a finished p-Model, in order.</summary>
    public static IReadOnlyList<PersonalizationTask> Tasks(ZooManifest zoo, string split, int? maxTasks = null, Func<ZooTask, bool>? where = null) =>
        zoo.Shards.SelectMany(s => Enumerable.Range(s.First, s.Count)).Select(i => zoo.Tasks[i])
            .Where(t => t.Split == split && (where?.Invoke(t) ?? true)).OrderBy(t => t.Index).Take(maxTasks ?? int.MaxValue)
            .Select(t => new PersonalizationTask(t.Classes, t.Names)).ToList();
}
