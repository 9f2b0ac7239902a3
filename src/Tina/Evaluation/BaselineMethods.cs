using Tina.Data;
using Tina.Generic;
using Tina.PModels;
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

/// <summary>
/// The zero-shot baseline (<see cref="TextToRows"/>): each class's row and bias predicted from its text by a linear map
/// fitted on the seen classes' generic rows; generic features of the test split are computed once, as for classifier
/// selection. Unlike classifier selection it needs no trained row for the classes it is asked for.
/// </summary>
public sealed class TextToRowsMethod : IPersonalizationMethod, IDisposable
{
    /// <summary>The name in reports.</summary>
    public const string MethodName = "text-to-rows";

    private readonly TextToRows _map;
    private readonly Func<IReadOnlyList<string>, float[][]> _embed;
    private readonly Tensor _features;

    /// <summary>Computes the generic model's features of <paramref name="test"/>; <paramref name="embed"/> gives the text embedding of class names.</summary>
    public TextToRowsMethod(GenericModel generic, TextToRows map, Func<IReadOnlyList<string>, float[][]> embed, ImageSet test, Device? device = null)
    {
        _map = map;
        _embed = embed;
        _features = Accuracy.Features(generic.Network, test, device);
    }

    /// <inheritdoc />
    public string Name => MethodName;

    /// <inheritdoc />
    public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices)
    {
        var pmodel = _map.Create(task.Names, _embed(task.Names));
        using var scope = NewDisposeScope();
        var layout = pmodel.Layout;
        var w = tensor(layout.Slice(pmodel.Parameters, "fc.weight").ToArray(), [task.Count, layout.FeatureDim]);
        var b = tensor(layout.Slice(pmodel.Parameters, "fc.bias").ToArray());
        var f = _features.index_select(0, tensor(indices.Select(i => (long)i).ToArray()));
        return nn.functional.linear(f, w, b).argmax(1).data<long>().Select(v => (int)v).ToArray();
    }

    /// <inheritdoc />
    public void Dispose() => _features.Dispose();
}
