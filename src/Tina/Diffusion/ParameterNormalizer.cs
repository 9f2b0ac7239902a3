using System.Text.Json;
using System.Text.Json.Nodes;
using Tina.PModels;
using static TorchSharp.torch;
using Tina.Runtime;

namespace Tina.Diffusion;

/// <summary>
/// Maps p-Model vectors to and from the space the diffusion works in: y = (x − shift) · gain per parameter, with the
/// shift and gain of the chosen <see cref="ParameterNormalization"/> fitted on a zoo matrix [N, P]. Padding (mask 0)
/// is ignored by the fit and stays exactly zero in both directions when a mask is passed. The statistics are saved as a
/// small JSON document (<see cref="ToJson"/>; fits in a checkpoint's metadata too).
/// </summary>
public sealed class ParameterNormalizer
{
    /// <summary>G.pt's target standard deviation.</summary>
    public const double GlobalScaleNumerator = 0.538;

    private const string FormatName = "tina-parameter-normalizer";
    private readonly double[] _means, _stds;

    private ParameterNormalizer(ParameterNormalization kind, ParameterLayout layout, double scale, double[] means, double[] stds)
    {
        Kind = kind;
        Layout = layout;
        Scale = scale;
        _means = means;
        _stds = stds;
    }

    /// <summary>The normalisation.</summary>
    public ParameterNormalization Kind { get; }

    /// <summary>The (padded) layout the statistics belong to.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>The global gain 0.538 / std (<see cref="ParameterNormalization.GlobalScale"/>; 1 otherwise).</summary>
    public double Scale { get; }

    /// <summary>Per-tensor means, in layout order (<see cref="ParameterNormalization.PerTensor"/>; 0 otherwise).</summary>
    public IReadOnlyList<double> TensorMeans => _means;

    /// <summary>Per-tensor standard deviations, in layout order (<see cref="ParameterNormalization.PerTensor"/>; 1 otherwise).</summary>
    public IReadOnlyList<double> TensorStds => _stds;

    /// <summary>The identity normaliser.</summary>
    public static ParameterNormalizer Identity(ParameterLayout layout) =>
        new(ParameterNormalization.None, layout, 1.0, new double[layout.Entries.Count], Enumerable.Repeat(1.0, layout.Entries.Count).ToArray());

    /// <summary>Fits <paramref name="kind"/> on <paramref name="zoo"/> [N, P]; <paramref name="mask"/> ([P] or [N, P]) excludes padding.</summary>
    public static ParameterNormalizer Fit(ParameterNormalization kind, ParameterLayout layout, Tensor zoo, Tensor? mask = null)
    {
        if (zoo.ndim != 2 || zoo.shape[1] != layout.Count)
            throw new ArgumentException($"Expected a zoo [N, {layout.Count}]; got [{string.Join(", ", zoo.shape)}].", nameof(zoo));
        if (kind == ParameterNormalization.None) return Identity(layout);
        using var scope = NewDisposeScope();
        var x = zoo.detach().cpu().to(ScalarType.Float64);
        var m = mask is null ? ones_like(x) : mask.detach().cpu().to(ScalarType.Float64).expand_as(x);
        if (kind == ParameterNormalization.GlobalScale)
            return new(kind, layout, GlobalScaleNumerator / Std(x, m), new double[layout.Entries.Count], Enumerable.Repeat(1.0, layout.Entries.Count).ToArray());
        var means = new double[layout.Entries.Count];
        var stds = new double[layout.Entries.Count];
        for (int i = 0; i < layout.Entries.Count; i++)
        {
            var e = layout.Entries[i];
            var xe = x.narrow(1, e.Offset, e.Length);
            var me = m.narrow(1, e.Offset, e.Length);
            double n = me.sum().item<double>();
            means[i] = n > 0 ? (xe * me).sum().item<double>() / n : 0.0;
            stds[i] = n > 0 ? Std(xe, me) : 1.0;
        }
        return new(kind, layout, 1.0, means, stds);
    }

    /// <summary>x → (x − shift) · gain; padded entries (mask 0) become exactly 0.</summary>
    public Tensor Normalize(Tensor x, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        var (shift, gain) = Affine(x);
        var y = (x - shift) * gain;
        if (mask is not null) y = y * mask;
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>y → y / gain + shift; padded entries (mask 0) become exactly 0.</summary>
    public Tensor Denormalize(Tensor y, Tensor? mask = null)
    {
        using var scope = NewDisposeScope();
        var (shift, gain) = Affine(y);
        var x = (y / gain).Plus(shift);
        if (mask is not null) x = x * mask;
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The statistics as JSON (kind, architecture, classes, scale, per-tensor mean/std).</summary>
    public string ToJson()
    {
        var tensors = new JsonArray();
        for (int i = 0; i < Layout.Entries.Count; i++)
            tensors.Add(new JsonObject { ["name"] = Layout.Entries[i].Name, ["mean"] = _means[i], ["std"] = _stds[i] });
        var root = new JsonObject
        {
            ["format"] = FormatName,
            ["version"] = 1,
            ["kind"] = Kind.ToString(),
            ["arch"] = Layout.Arch.ToName(),
            ["classes"] = Layout.NumClasses,
            ["parameters"] = Layout.Count,
            ["scale"] = Scale,
            ["tensors"] = tensors,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads statistics written by <see cref="ToJson"/>; <paramref name="source"/> names the origin in errors.</summary>
    /// <exception cref="CorruptFileException">The document is not a valid normaliser.</exception>
    public static ParameterNormalizer FromJson(string json, string source = "normalizer JSON")
    {
        try
        {
            var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("not a JSON object");
            if ((string?)root["format"] != FormatName) throw new InvalidDataException($"format is not '{FormatName}'");
            var kindName = (string)root["kind"]!;
            if (kindName is "Center" or "Standardize")
                throw new InvalidDataException($"the normalisation '{kindName}' was removed (it measured no gain); the last commit with it is {RemovedOptions.LastCommit}");
            var kind = Enum.Parse<ParameterNormalization>(kindName);
            var layout = ParameterLayout.For(PModelArchNames.Parse((string)root["arch"]!), (int)root["classes"]!);
            if ((int)root["parameters"]! != layout.Count) throw new InvalidDataException($"parameter count {(int)root["parameters"]!} does not match the layout ({layout.Count})");
            var tensors = root["tensors"]!.AsArray();
            if (tensors.Count != layout.Entries.Count) throw new InvalidDataException($"{tensors.Count} tensors, the layout has {layout.Entries.Count}");
            var means = new double[tensors.Count];
            var stds = new double[tensors.Count];
            for (int i = 0; i < tensors.Count; i++)
            {
                if ((string?)tensors[i]!["name"] != layout.Entries[i].Name) throw new InvalidDataException($"tensor {i} is not {layout.Entries[i].Name}");
                means[i] = (double)tensors[i]!["mean"]!;
                stds[i] = (double)tensors[i]!["std"]!;
                if (!(stds[i] > 0) || !double.IsFinite(means[i])) throw new InvalidDataException($"bad statistics for {layout.Entries[i].Name}");
            }
            double scale = (double)root["scale"]!;
            if (!(scale > 0) || !double.IsFinite(scale)) throw new InvalidDataException($"bad scale {scale}");
            return new(kind, layout, scale, means, stds);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or ArgumentException or NullReferenceException or FormatException or ITinaError)
        {
            throw new CorruptFileException(source, e.Message, e);
        }
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Loads a normaliser saved by <see cref="Save"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not a valid normaliser.</exception>
    public static ParameterNormalizer Load(string path)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Expected the parameter-normalizer JSON saved with the Tina checkpoint.");
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Per-parameter shift and gain [P] on the device and dtype of <paramref name="like"/>.</summary>
    private (Tensor Shift, Tensor Gain) Affine(Tensor like)
    {
        if (like.shape[^1] != Layout.Count)
            throw new ArgumentException($"Expected vectors of {Layout.Count} parameters; got [{string.Join(", ", like.shape)}].", nameof(like));
        var shift = new double[Layout.Count];
        var gain = new double[Layout.Count];
        for (int i = 0; i < Layout.Entries.Count; i++)
        {
            var e = Layout.Entries[i];
            Array.Fill(shift, _means[i], e.Offset, e.Length);
            Array.Fill(gain, Scale / _stds[i], e.Offset, e.Length);
        }
        return (tensor(shift).to(like.dtype).to(like.device), tensor(gain).to(like.dtype).to(like.device));
    }

    /// <summary>Standard deviation of the masked entries (about their masked mean), floored to avoid division by zero.</summary>
    private static double Std(Tensor x, Tensor m)
    {
        double n = m.sum().item<double>();
        if (n <= 0) return 1.0;
        double mean = (x * m).sum().item<double>() / n;
        double var = (x.Plus(-mean).square() * m).sum().item<double>() / Math.Max(1.0, n - 1);
        return Math.Max(Math.Sqrt(var), 1e-8);
    }
}
