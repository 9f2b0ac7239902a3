using Tina.Data;
using Tina.Generic;
using Tina.Tasks;
using static TorchSharp.torch;

namespace Tina.Evaluation;

/// <summary>
/// The generic model without personalization: argmax over all classes; correct only if it is the right class,
/// so a prediction outside the task counts as wrong.
/// </summary>
public sealed class GenericMethod : IPersonalizationMethod
{
    private readonly int[] _argmax;

    /// <summary>Runs the generic model once over <paramref name="test"/> and keeps its argmax per image.</summary>
    public GenericMethod(GenericModel generic, ImageSet test, Device? device = null)
    {
        using var logits = Accuracy.Logits(generic.Network, test, device);
        using var am = logits.argmax(1);
        _argmax = am.data<long>().Select(v => (int)v).ToArray();
    }

    /// <inheritdoc />
    public string Name => "generic";

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices) =>
        indices.Select(i => task.PositionOf(_argmax[i])).ToArray();
}

/// <summary>
/// Classifier selection (the paper's strong baseline): generic features, classifier rows of the task's classes in
/// prompt order. Features of the test split are computed once, so each task costs one small matrix product.
/// </summary>
public sealed class ClassifierSelectionMethod : IPersonalizationMethod, IDisposable
{
    private readonly Tensor _features, _weight, _bias;

    /// <summary>Computes the generic model's pooled features of <paramref name="test"/>.</summary>
    public ClassifierSelectionMethod(GenericModel generic, ImageSet test, Device? device = null)
    {
        _features = Accuracy.Features(generic.Network, test, device);
        _weight = generic.Network.fc.weight!.detach().cpu().clone();
        _bias = generic.Network.fc.bias!.detach().cpu().clone();
    }

    /// <inheritdoc />
    public string Name => "classifier-selection";

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        using var scope = NewDisposeScope();
        var rows = tensor(task.Classes.Select(c => (long)c).ToArray());
        var f = _features.index_select(0, tensor(indices.Select(i => (long)i).ToArray()));
        var logits = nn.functional.linear(f, _weight.index_select(0, rows), _bias.index_select(0, rows));
        return logits.argmax(1).data<long>().Select(v => (int)v).ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _features.Dispose();
        _weight.Dispose();
        _bias.Dispose();
    }
}
