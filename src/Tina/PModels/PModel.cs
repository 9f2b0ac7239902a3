
namespace Tina.PModels;

/// <summary>
/// A personalized model: an architecture, the class labels in prompt order, the personalized parameter vector
/// (laid out by <see cref="ParameterLayout"/>), and the frozen tensors it shares with the generic model (the ResNet-20
/// backbone; empty for CNN-5K, whose parameters are all personalized). Everything needed to run or export it.
/// </summary>
public sealed class PModel
{
    /// <summary>Creates a p-Model; checks that the vector length matches the layout.</summary>
    public PModel(PModelArch arch, IReadOnlyList<string> labels, float[] parameters, IReadOnlyDictionary<string, NamedTensor>? frozen = null)
    {
        if (labels.Count == 0) throw new ArgumentException("A p-Model needs at least one class label.", nameof(labels));
        Layout = ParameterLayout.For(arch, labels.Count);
        if (parameters.Length != Layout.Count)
            throw new ArgumentException($"A {arch.ToName()} p-Model with {labels.Count} classes has {Layout.Count} parameters; got {parameters.Length}.", nameof(parameters));
        if (arch == PModelArch.ResNet20 && (frozen is null || frozen.Count == 0))
            throw new ArgumentException("A ResNet-20 p-Model needs the frozen backbone tensors of its generic model.", nameof(frozen));
        Arch = arch;
        Labels = labels.ToArray();
        Parameters = parameters;
        Frozen = frozen ?? new Dictionary<string, NamedTensor>();
    }

    /// <summary>The architecture.</summary>
    public PModelArch Arch { get; }

    /// <summary>Class labels; output index i of the classifier is <c>Labels[i]</c>.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The personalized parameters (flat, see <see cref="Layout"/>).</summary>
    public float[] Parameters { get; }

    /// <summary>Frozen, shared tensors (ResNet-20 backbone incl. batch-norm statistics), by state-dict name.</summary>
    public IReadOnlyDictionary<string, NamedTensor> Frozen { get; }

    /// <summary>Layout of <see cref="Parameters"/>.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The complete state dict (frozen tensors + personalized ones), ready to load into a network or export.</summary>
    public Dictionary<string, NamedTensor> ToStateDict()
    {
        var dict = new Dictionary<string, NamedTensor>();
        foreach (var (k, v) in Frozen)
            if (!k.StartsWith("fc.", StringComparison.Ordinal)) dict[k] = v;
        foreach (var e in Layout.Entries)
            dict[e.Name] = new NamedTensor(e.Shape, Parameters.AsSpan(e.Offset, e.Length).ToArray());
        return dict;
    }

    /// <summary>Builds a TorchSharp network holding this p-Model's weights (eval mode, CPU).</summary>
    public PModelNetwork ToNetwork()
    {
        // Seeded creation holds the global-generator lock: the initial draws are overwritten below, but unlocked draws
        // would shift a seeded creation running on another thread at the same time.
        var net = PModelNetwork.Create(Arch, Labels.Count, seed: 0);
        StateDict.Import(net, ToStateDict(), $"p-Model ({Arch.ToName()})");
        net.eval();
        return net;
    }
}
