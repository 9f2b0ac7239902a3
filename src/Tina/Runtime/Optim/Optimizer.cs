using System.Globalization;
using Tina.IO;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tina.Runtime.Optim;

/// <summary>Parameters that share a learning rate and a weight decay.</summary>
/// <param name="Parameters">The parameters of the group.</param>
/// <param name="WeightDecay">Weight decay of the group (0 for biases, norms and positions).</param>
public sealed record ParameterGroup(IReadOnlyList<Parameter> Parameters, double WeightDecay = 0);

/// <summary>
/// A first-order optimizer over parameter groups whose state can be saved to and restored from a safetensors file, so a
/// resumed run continues bit for bit. Written against <see cref="TensorMath"/>: no TorchSharp Scalar is left to the
/// finalizer during a native call (TorchSharp's own optimizers do that on every step).
/// </summary>
public abstract class Optimizer : IDisposable
{
    private readonly Tensor[][] _state;

    /// <summary>Creates the optimizer with <paramref name="slots"/> state tensors (zeros) per parameter.</summary>
    protected Optimizer(IEnumerable<ParameterGroup> groups, double learningRate, int slots)
    {
        Groups = groups.ToArray();
        if (Groups.Count == 0 || Groups.All(g => g.Parameters.Count == 0)) throw new ArgumentException("The optimizer needs at least one parameter.", nameof(groups));
        ArgumentOutOfRangeException.ThrowIfNegative(learningRate);
        LearningRate = learningRate;
        _state = Groups.SelectMany(g => g.Parameters).Select(p => Enumerable.Range(0, slots).Select(_ => zeros_like(p).DetachFromDisposeScope()).ToArray()).ToArray();
    }

    /// <summary>The parameter groups, in the order given.</summary>
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <summary>The learning rate of the next <see cref="Step"/> (set it every step for a schedule).</summary>
    public double LearningRate { get; set; }

    /// <summary>Number of steps taken so far (restored by <see cref="LoadState"/>).</summary>
    public long StepCount { get; private set; }

    /// <summary>A short name stored with the state (e.g. "adamw").</summary>
    protected abstract string Name { get; }

    /// <summary>Updates every parameter that has a gradient, then counts the step.</summary>
    public void Step()
    {
        using var _ = no_grad();
        StepCount++;
        int k = 0;
        foreach (var g in Groups)
            foreach (var p in g.Parameters)
            {
                var state = _state[k++];
                if (p.grad is null) continue;
                using var scope = NewDisposeScope();
                Update(p, p.grad, state, g.WeightDecay);
            }
    }

    /// <summary>Applies one update to <paramref name="p"/> given its gradient and its state tensors.</summary>
    protected abstract void Update(Tensor p, Tensor grad, Tensor[] state, double weightDecay);

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var g in Groups)
            foreach (var p in g.Parameters)
                p.grad?.zero_();
    }

    /// <summary>Writes the state (step count and per-parameter tensors) to <paramref name="path"/> atomically.</summary>
    public void SaveState(string path)
    {
        var tensors = new Dictionary<string, NamedTensor>();
        for (int i = 0; i < _state.Length; i++)
            for (int s = 0; s < _state[i].Length; s++)
            {
                using var c = _state[i][s].detach().cpu().contiguous();
                tensors[$"{i}.{s}"] = new NamedTensor(c.shape.ToArray(), c.data<float>().ToArray());
            }
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["optimizer"] = Name, ["steps"] = StepCount.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>Restores the state written by <see cref="SaveState"/> for the same parameters.</summary>
    /// <exception cref="CorruptFileException">The file is missing a tensor, has other shapes, or belongs to another optimizer.</exception>
    public void LoadState(string path)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "The checkpoint names an optimizer state that is not there; delete the checkpoint folder to start over.");
        var (tensors, meta) = SafeTensors.Load(path);
        if (!meta.TryGetValue("optimizer", out var name) || name != Name || !meta.TryGetValue("steps", out var steps))
            throw new CorruptFileException(path, $"not a {Name} optimizer state");
        using var _ = no_grad();
        for (int i = 0; i < _state.Length; i++)
            for (int s = 0; s < _state[i].Length; s++)
            {
                if (!tensors.TryGetValue($"{i}.{s}", out var t) || !t.Shape.SequenceEqual(_state[i][s].shape))
                    throw new CorruptFileException(path, $"state tensor {i}.{s} is missing or has another shape");
                using var src = tensor(t.Data, t.Shape);
                _state[i][s].copy_(src);
            }
        StepCount = long.Parse(steps, CultureInfo.InvariantCulture);
    }

    /// <summary>Frees the state tensors.</summary>
    public void Dispose()
    {
        foreach (var s in _state.SelectMany(x => x)) s.Dispose();
        GC.SuppressFinalize(this);
    }
}
