using Tina.Data;
using static TorchSharp.torch;

namespace Tina.PModels;

/// <summary>Plain top-1 accuracy and batched feature extraction over a whole split.</summary>
public static class Accuracy
{
    /// <summary>Top-1 accuracy (%) of <paramref name="net"/> over every image of <paramref name="set"/>.</summary>
    public static double TopOne(PModelNetwork net, ImageSet set, Device? device = null)
    {
        using var logits = Logits(net, set, device);
        using var pred = logits.argmax(1);
        using var y = tensor(set.Labels.Select(l => (long)l).ToArray());
        return 100.0 * pred.eq(y).sum().item<long>() / set.Count;
    }

    /// <summary>Logits [N, C] of the whole split (eval mode, no grad, CPU result).</summary>
    public static Tensor Logits(PModelNetwork net, ImageSet set, Device? device = null)
    {
        if (net is not ResNet18Head) return Map(set, device, x => net.forward(x));
        using var _ = no_grad();
        using var f = Features(net, set, device);
        return net.fc.forward(f.to(net.fc.weight!.device)).cpu();
    }

    /// <summary>
    /// Pooled features [N, D] of the whole split (eval mode, no grad, CPU result). A ResNet-18 head's come from its
    /// backbone's feature service, computed once per set (and cached on disk when the service has a cache folder).
    /// </summary>
    public static Tensor Features(PModelNetwork net, ImageSet set, Device? device = null) =>
        net is ResNet18Head head ? head.Backbone.Of(set) : Map(set, device, x => net.Features(x));

    /// <summary>
    /// Features of one randomly augmented view of every image of <paramref name="set"/> (random crop + flip, seeded by
    /// <paramref name="view"/>, so every process draws the same view), in the set's order: [N, D].
    /// </summary>
    public static Tensor Features(PModelNetwork net, ImageSet set, int view, Device? device = null) =>
        net is ResNet18Head head ? head.Backbone.Of(set, view)
            : Map(set, device, x => net.Features(x), augment: new Random(Runtime.Seeds.Derive(0x71E3, view)));

    private static Tensor Map(ImageSet set, Device? device, Func<Tensor, Tensor> f, int batch = 500, Random? augment = null)
    {
        using var _ = no_grad();
        var parts = new List<Tensor>();
        var all = Enumerable.Range(0, set.Count).ToArray();
        for (int s = 0; s < set.Count; s += batch)
        {
            var idx = all.AsSpan(s, Math.Min(batch, set.Count - s));
            using var x = Augmentation.ToTensor(set, idx, Normalization.Mean, Normalization.Std, augment).to(device ?? CPU);
            using var y = f(x);
            parts.Add(y.cpu());
        }
        var result = cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return result;
    }
}
