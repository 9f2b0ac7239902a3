using Tina.Data;
using Tina.Tasks;

namespace Tina.Evaluation;

/// <summary>p-Acc of a method over a set of tasks: mean and standard deviation of the per-task accuracies (%).</summary>
/// <param name="Method">Method name.</param>
/// <param name="Mean">Mean p-Acc, %.</param>
/// <param name="Std">Population standard deviation over tasks, %.</param>
/// <param name="PerTask">p-Acc of each task, %, in task order.</param>
public sealed record PAccResult(string Method, double Mean, double Std, double[] PerTask)
{
    /// <summary>
    /// Mean p-Acc of the tasks of each class count, smallest count first; <paramref name="tasks"/> are the tasks of
    /// <see cref="PerTask"/>, in the same order.
    /// </summary>
    public IReadOnlyList<(int Classes, int Tasks, double Mean)> ByClassCount(IReadOnlyList<PersonalizationTask> tasks)
    {
        if (tasks.Count != PerTask.Length) throw new ArgumentException($"{PerTask.Length} p-Acc values but {tasks.Count} tasks.", nameof(tasks));
        return tasks.Select((t, i) => (t.Count, PerTask[i])).GroupBy(x => x.Count).OrderBy(g => g.Key)
            .Select(g => (g.Key, g.Count(), g.Average(x => x.Item2))).ToList();
    }
}

/// <summary>
/// The paper's personalized accuracy: restrict the test split to the task's classes, relabel each image by the
/// position of its class in the task, and count a prediction correct when it names that position.
/// </summary>
public static class PAcc
{
    /// <summary>p-Acc (%) of one task.</summary>
    public static double OfTask(IPersonalizationMethod method, PersonalizationTask task, ImageSet test)
    {
        var indices = test.IndicesOf(task.Classes.ToHashSet());
        if (indices.Length == 0) throw new TinaException($"The test split has no images of the task's classes ({task.Prompt}).");
        var predicted = method.Predict(task, test, indices);
        int correct = 0;
        for (int i = 0; i < indices.Length; i++)
            if (predicted[i] == task.PositionOf(test.Labels[indices[i]])) correct++;
        return 100.0 * correct / indices.Length;
    }

    /// <summary>p-Acc over many tasks, reporting progress as the fraction of tasks done.</summary>
    public static PAccResult Evaluate(IPersonalizationMethod method, IReadOnlyList<PersonalizationTask> tasks, ImageSet test,
        IProgress<double>? progress = null, CancellationToken cancel = default)
    {
        var per = new double[tasks.Count];
        // A batched method reports its preparation as the first half of the progress.
        if (method is IBatchedPersonalizationMethod batched)
            batched.Prepare(tasks, progress is null ? null : new Progress(f => progress.Report(f / 2)), cancel);
        double offset = method is IBatchedPersonalizationMethod ? 0.5 : 0, scale = 1 - offset;
        for (int t = 0; t < tasks.Count; t++)
        {
            cancel.ThrowIfCancellationRequested();
            per[t] = OfTask(method, tasks[t], test);
            progress?.Report(offset + scale * (t + 1.0) / tasks.Count);
        }
        double mean = per.Average();
        double std = Math.Sqrt(per.Select(a => (a - mean) * (a - mean)).Average());
        return new PAccResult(method.Name, mean, std, per);
    }

    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
