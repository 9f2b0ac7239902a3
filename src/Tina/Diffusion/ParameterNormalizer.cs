using System.Text.Json;
using System.Text.Json.Nodes;
using Tina.IO;
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
    private readonly double[]? _center, _spread;

    private ParameterNormalizer(ParameterNormalization kind, ParameterLayout layout, double scale, double[] means, double[] stds, double[]? center = null, double[]? spread = null)
    {
        _spread = spread;
        Kind = kind;
        Layout = layout;
        Scale = scale;
        _means = means;
        _stds = stds;
        _center = center;
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

    /// <summary>The zoo's mean p-Model [P] subtracted by <see cref="ParameterNormalization.Center"/> and <see cref="ParameterNormalization.Standardize"/>; null for the other kinds.</summary>
    public IReadOnlyList<double>? Center => _center;

    /// <summary>Each parameter's standard deviation over the zoo [P], divided out by <see cref="ParameterNormalization.Standardize"/>; null for the other kinds.</summary>
    public IReadOnlyList<double>? Spread => _spread;

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
        if (kind == ParameterNormalization.Center)
            return new(kind, layout, 1.0, new double[layout.Entries.Count], Enumerable.Repeat(1.0, layout.Entries.Count).ToArray(), MeanModel(layout, x, m));
        if (kind == ParameterNormalization.Standardize)
        {
            var center = MeanModel(layout, x, m);
            return new(kind, layout, 1.0, new double[layout.Entries.Count], Enumerable.Repeat(1.0, layout.Entries.Count).ToArray(), center, SpreadModel(layout, x, m, center));
        }
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
        if (_center is not null) root["center"] = new JsonArray(_center.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
        if (_spread is not null) root["spread"] = new JsonArray(_spread.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
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
            var kind = Enum.Parse<ParameterNormalization>((string)root["kind"]!);
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
            double[]? center = null, spread = null;
            if (kind is ParameterNormalization.Center or ParameterNormalization.Standardize)
            {
                var c = root["center"]?.AsArray() ?? throw new InvalidDataException("a centering normaliser needs its mean p-Model ('center')");
                if (c.Count != layout.Count) throw new InvalidDataException($"the mean p-Model has {c.Count} numbers, the layout {layout.Count}");
                center = c.Select(v => (double)v!).ToArray();
                if (center.Any(v => !double.IsFinite(v))) throw new InvalidDataException("the mean p-Model has a non-finite number");
            }
            if (kind == ParameterNormalization.Standardize)
            {
                var d = root["spread"]?.AsArray() ?? throw new InvalidDataException("a standardising normaliser needs its per-parameter spread ('spread')");
                if (d.Count != layout.Count) throw new InvalidDataException($"the spread has {d.Count} numbers, the layout {layout.Count}");
                spread = d.Select(v => (double)v!).ToArray();
                if (spread.Any(v => !(v > 0) || !double.IsFinite(v))) throw new InvalidDataException("the spread has a number that is not positive and finite");
            }
            return new(kind, layout, scale, means, stds, center, spread);
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
        _center?.CopyTo(shift, 0);
        if (_spread is not null)
            for (int j = 0; j < gain.Length; j++) gain[j] = 1.0 / _spread[j];
        return (tensor(shift).to(like.dtype).to(like.device), tensor(gain).to(like.dtype).to(like.device));
    }

    /// <summary>
    /// The mean p-Model of a zoo [N, P] over its unmasked entries: per parameter, except one mean row for all classifier
    /// rows and one mean for all biases (so that permuting classes commutes with centering).
    /// </summary>
    private static double[] MeanModel(ParameterLayout layout, Tensor x, Tensor m)
    {
        using var scope = NewDisposeScope();
        var sum = (x * m).sum([0L]).data<double>().ToArray();
        var count = m.sum([0L]).data<double>().ToArray();
        var center = new double[layout.Count];
        for (int j = 0; j < center.Length; j++) center[j] = count[j] > 0 ? sum[j] / count[j] : 0.0;
        var w = layout["fc.weight"];
        var b = layout["fc.bias"];
        int rows = (int)w.Shape[0], f = (int)w.Shape[1];
        for (int k = 0; k < f; k++)
        {
            double s = 0, n = 0;
            for (int r = 0; r < rows; r++) { s += sum[w.Offset + r * f + k]; n += count[w.Offset + r * f + k]; }
            for (int r = 0; r < rows; r++) center[w.Offset + r * f + k] = n > 0 ? s / n : 0.0;
        }
        double bs = 0, bn = 0;
        for (int r = 0; r < rows; r++) { bs += sum[b.Offset + r]; bn += count[b.Offset + r]; }
        for (int r = 0; r < rows; r++) center[b.Offset + r] = bn > 0 ? bs / bn : 0.0;
        return center;
    }

    /// <summary>
    /// Per-parameter standard deviation of a zoo [N, P] about <paramref name="center"/> over its unmasked entries, pooled
    /// like <see cref="MeanModel"/> (one per classifier feature, one for the biases), each floored at 1e-3 of its
    /// tensor's mean spread so that a number the zoo never moves does not divide by zero.
    /// </summary>
    private static double[] SpreadModel(ParameterLayout layout, Tensor x, Tensor m, double[] center)
    {
        using var scope = NewDisposeScope();
        var squares = ((x - tensor(center).to(x.dtype)).square() * m).sum([0L]).data<double>().ToArray();
        var count = m.sum([0L]).data<double>().ToArray();
        var w = layout["fc.weight"];
        var b = layout["fc.bias"];
        int rows = (int)w.Shape[0], f = (int)w.Shape[1];
        void Pool(IEnumerable<int> indices)
        {
            var list = indices.ToList();
            double s = list.Sum(j => squares[j]), n = list.Sum(j => count[j]);
            foreach (var j in list) { squares[j] = s; count[j] = n; }
        }
        for (int k = 0; k < f; k++) Pool(Enumerable.Range(0, rows).Select(r => w.Offset + r * f + k));
        Pool(Enumerable.Range(0, rows).Select(r => b.Offset + r));
        var spread = new double[layout.Count];
        for (int j = 0; j < spread.Length; j++) spread[j] = count[j] > 1 ? Math.Sqrt(squares[j] / (count[j] - 1)) : 0.0;
        foreach (var e in layout.Entries)
        {
            double mean = Enumerable.Range(e.Offset, e.Length).Average(j => spread[j]);
            double floor = Math.Max(1e-3 * mean, 1e-8);
            for (int j = e.Offset; j < e.Offset + e.Length; j++) spread[j] = Math.Max(spread[j], floor);
        }
        return spread;
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
