using Tina.Data;
using Tina.Tasks;

namespace Tina.Evaluation;

/// <summary>A way to obtain a classifier for a task (generic model, classifier selection, fine-tuned p-Model, Tina…).</summary>
public interface IPersonalizationMethod
{
    /// <summary>Name used in reports (e.g. <c>classifier-selection</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Predicts, for each test image at <paramref name="indices"/>, the position in <paramref name="task"/> of the
    /// predicted class, or −1 when the method predicts a class outside the task (only the generic model can).
    /// </summary>
    int[] Predict(PersonalizationTask task, ImageSet test, int[] indices);
}

/// <summary>
/// A method that is faster when it sees all tasks up front (e.g. a generator that samples many p-Models in one batch).
/// <see cref="PAcc.Evaluate"/> calls <see cref="Prepare"/> once before predicting.
/// </summary>
public interface IBatchedPersonalizationMethod : IPersonalizationMethod
{
    /// <summary>Builds the classifiers of <paramref name="tasks"/> ahead of <see cref="IPersonalizationMethod.Predict"/>.</summary>
    void Prepare(IReadOnlyList<PersonalizationTask> tasks, IProgress<double>? progress = null, CancellationToken cancel = default);
}
