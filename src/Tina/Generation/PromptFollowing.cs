using Tina.PModels;
using Tina.Zoo;

namespace Tina.Generation;

/// <summary>How closely generated p-Models match the zoo's p-Models of the same tasks (see <see cref="PromptFollowing"/>).</summary>
/// <param name="Tasks">Tasks generated.</param>
/// <param name="Rows">Classifier rows compared (tasks × classes).</param>
/// <param name="RowsNearestTheirClass">Generated rows whose nearest class-mean row of the zoo is the row's own class.</param>
/// <param name="Classes">Classes with a mean row (chance of a hit is 1 / this).</param>
/// <param name="MeanRowCorrelation">Mean Pearson correlation of a generated row with the zoo p-Model's row.</param>
/// <param name="BodyCorrelation">Mean correlation of the other tensors (CNN-5K's convolutions); null for a head-only p-Model.</param>
public sealed record PromptFollowingReport(int Tasks, int Rows, int RowsNearestTheirClass, int Classes, double MeanRowCorrelation, double? BodyCorrelation)
{
    /// <summary>Share of rows nearest their own class, 0…1.</summary>
    public double HitRate => Rows == 0 ? 0 : (double)RowsNearestTheirClass / Rows;
}

/// <summary>
/// Does a generator follow the prompt? For tasks of a zoo, generates the p-Model of each task's class list and checks
/// every classifier row against the mean row of each class over the zoo's training p-Models: a row "follows the prompt"
/// when the nearest mean row is that of its own class. p-Acc says whether a generated model works; this says why not
/// when it does not (e.g. convolutions right, rows not conditioned on the text; docs/RESULTS.md).
/// </summary>
public static class PromptFollowing
{
    /// <summary>Compares the generated p-Models of <paramref name="probe"/>'s tasks with those p-Models.</summary>
    /// <param name="generator">The trained generator.</param>
    /// <param name="training">The zoo's training p-Models (for the class-mean rows).</param>
    /// <param name="probe">The p-Models whose tasks are generated (training or held-out ones).</param>
    /// <param name="options">Sampler, steps and seed.</param>
    public static PromptFollowingReport Measure(TinaGenerator generator, IReadOnlyList<ZooEntry> training, IReadOnlyList<ZooEntry> probe, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(probe);
        if (training.Count == 0 || probe.Count == 0) throw new ArgumentException("Need at least one training and one probe p-Model.");
        var means = ClassMeanRows(generator.Arch, training);
        var models = generator.Generate(probe.Select(e => (IReadOnlyList<string>)e.Task.Names).ToList(), options);
        int hits = 0, rows = 0;
        double rowCorr = 0, bodyCorr = 0;
        foreach (var (entry, model) in probe.Zip(models))
        {
            var layout = model.Layout;
            var w = layout["fc.weight"];
            int f = (int)w.Shape[1];
            for (int r = 0; r < entry.Task.Names.Length; r++)
            {
                var row = model.Parameters.AsSpan(w.Offset + r * f, f).ToArray();
                var nearest = means.MinBy(kv => SquaredDistance(kv.Value, row)).Key;
                if (nearest == entry.Task.Names[r]) hits++;
                rowCorr += Correlation(row, entry.Parameters.AsSpan(w.Offset + r * f, f));
                rows++;
            }
            if (w.Offset > 0) bodyCorr += Correlation(model.Parameters.AsSpan(0, w.Offset), entry.Parameters.AsSpan(0, w.Offset));
        }
        bool hasBody = models[0].Layout["fc.weight"].Offset > 0;
        return new PromptFollowingReport(probe.Count, rows, hits, means.Count, rowCorr / rows, hasBody ? bodyCorr / probe.Count : null);
    }

    /// <summary>The mean classifier row of every class over <paramref name="entries"/> (p-Models of <paramref name="arch"/>).</summary>
    public static Dictionary<string, float[]> ClassMeanRows(PModelArch arch, IReadOnlyList<ZooEntry> entries)
    {
        var sums = new Dictionary<string, (double[] Sum, int Count)>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            var w = ParameterLayout.For(arch, e.Task.Names.Length)["fc.weight"];
            int f = (int)w.Shape[1];
            for (int r = 0; r < e.Task.Names.Length; r++)
            {
                if (!sums.TryGetValue(e.Task.Names[r], out var acc)) acc = (new double[f], 0);
                for (int k = 0; k < f; k++) acc.Sum[k] += e.Parameters[w.Offset + r * f + k];
                sums[e.Task.Names[r]] = (acc.Sum, acc.Count + 1);
            }
        }
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum.Select(v => (float)(v / kv.Value.Count)).ToArray(), StringComparer.Ordinal);
    }

    private static double SquaredDistance(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
        return s;
    }

    private static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ma = 0, mb = 0;
        for (int i = 0; i < a.Length; i++) { ma += a[i]; mb += b[i]; }
        ma /= a.Length;
        mb /= b.Length;
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            ab += (a[i] - ma) * (b[i] - mb);
            aa += (a[i] - ma) * (a[i] - ma);
            bb += (b[i] - mb) * (b[i] - mb);
        }
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : 0.0;
    }
}
