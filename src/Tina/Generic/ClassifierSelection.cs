using Tina.PModels;
using Tina.Tasks;

namespace Tina.Generic;

/// <summary>
/// The paper's strong baseline (§2.1.2): keep the generic model's feature extractor and select the classifier rows
/// of the task's classes, in prompt order. Produces a p-Model without any training.
/// </summary>
public static class ClassifierSelection
{
    /// <summary>The classifier-selection p-Model of <paramref name="task"/>.</summary>
    public static PModel Create(GenericModel generic, PersonalizationTask task)
    {
        var full = StateDict.Export(generic.Network);
        var w = full["fc.weight"];
        var b = full["fc.bias"];
        int d = (int)w.Shape[1];
        var layout = ParameterLayout.For(generic.Arch, task.Count);
        var vector = new float[layout.Count];
        var fcW = layout.Slice(vector, "fc.weight");
        var fcB = layout.Slice(vector, "fc.bias");
        for (int i = 0; i < task.Count; i++)
        {
            w.Data.AsSpan(task.Classes[i] * d, d).CopyTo(fcW.Slice(i * d, d));
            fcB[i] = b.Data[task.Classes[i]];
        }
        IReadOnlyDictionary<string, NamedTensor>? frozen = null;
        if (generic.Arch == PModelArch.Cnn5k)
        {
            full["conv1.weight"].Data.CopyTo(layout.Slice(vector, "conv1.weight"));
            full["conv2.weight"].Data.CopyTo(layout.Slice(vector, "conv2.weight"));
        }
        else if (generic.Arch == PModelArch.ResNet20)
        {
            full.Remove("fc.weight");
            full.Remove("fc.bias");
            frozen = full;
        }
        // ResNet-18: the backbone is the package's, outside the network; the head is the whole p-Model.
        return new PModel(generic.Arch, task.Names, vector, frozen);
    }
}
