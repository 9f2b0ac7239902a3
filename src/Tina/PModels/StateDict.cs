using TorchSharp;
using static TorchSharp.torch;

namespace Tina.PModels;

/// <summary>Moves a network's weights to and from plain arrays: full state dicts and flat p-Model vectors.</summary>
public static class StateDict
{
    /// <summary>
    /// Every parameter and float buffer (batch-norm running statistics) of <paramref name="module"/>, by state-dict
    /// name, copied to CPU arrays. Integer buffers (num_batches_tracked) are left out.
    /// </summary>
    public static Dictionary<string, NamedTensor> Export(nn.Module module)
    {
        var result = new Dictionary<string, NamedTensor>();
        foreach (var (name, t) in module.state_dict())
        {
            if (t.dtype != ScalarType.Float32) continue;
            using var c = t.detach().cpu().contiguous();
            result[name] = new NamedTensor(c.shape.ToArray(), c.data<float>().ToArray());
        }
        return result;
    }

    /// <summary>Copies the tensors of <paramref name="tensors"/> into <paramref name="module"/>; every float tensor of the module must be given.</summary>
    /// <exception cref="CorruptFileException">A tensor is missing or has the wrong shape (<paramref name="source"/> names the file).</exception>
    public static void Import(nn.Module module, IReadOnlyDictionary<string, NamedTensor> tensors, string source)
    {
        using var _ = no_grad();
        foreach (var (name, t) in module.state_dict())
        {
            if (t.dtype != ScalarType.Float32) continue;
            if (!tensors.TryGetValue(name, out var nt))
                throw new CorruptFileException(source, $"tensor '{name}' is missing");
            if (!nt.Shape.SequenceEqual(t.shape))
                throw new CorruptFileException(source, $"tensor '{name}' has shape [{string.Join(",", nt.Shape)}], expected [{string.Join(",", t.shape)}]");
            using var src = tensor(nt.Data, nt.Shape);
            t.copy_(src);
        }
    }

    /// <summary>Reads the personalized parameters of <paramref name="network"/> into a flat vector laid out by <see cref="ParameterLayout"/>.</summary>
    public static float[] Flatten(PModelNetwork network)
    {
        var layout = ParameterLayout.For(network.Arch, network.NumClasses);
        var vector = new float[layout.Count];
        var parameters = network.state_dict();
        foreach (var e in layout.Entries)
        {
            using var c = parameters[e.Name].detach().cpu().contiguous();
            c.data<float>().CopyTo(vector.AsSpan(e.Offset, e.Length));
        }
        return vector;
    }

    /// <summary>Writes the flat vector <paramref name="vector"/> into the personalized parameters of <paramref name="network"/>.</summary>
    public static void Unflatten(PModelNetwork network, ReadOnlySpan<float> vector)
    {
        var layout = ParameterLayout.For(network.Arch, network.NumClasses);
        if (vector.Length != layout.Count)
            throw new ArgumentException($"A {network.Arch.ToName()} p-Model with {network.NumClasses} classes has {layout.Count} parameters; got {vector.Length}.");
        using var _ = no_grad();
        var parameters = network.state_dict();
        foreach (var e in layout.Entries)
        {
            var target = parameters[e.Name];
            using var src = tensor(vector.Slice(e.Offset, e.Length).ToArray(), e.Shape).to(target.device);
            target.copy_(src);
        }
    }
}
