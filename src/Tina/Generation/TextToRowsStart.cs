using Tina.Diffusion;
using Tina.Generic;
using Tina.PModels;

namespace Tina.Generation;

/// <summary>
/// The start of every generated classifier row and bias (<see cref="RowStart.TextToRows"/>): the text-to-rows map, and
/// the start each of the checkpoint's stored texts was trained against. Kept with the checkpoint
/// (<c>start.map</c>, <c>start.table</c>), so generation adds exactly what training subtracted.
/// </summary>
public sealed class TextToRowsStart
{
    private readonly float[] _map;   // [textDim + 1, featureDim + 1]
    private readonly float[] _table; // [stored texts, featureDim + 1]
    private readonly Dictionary<string, int> _stored;

    /// <summary>Wraps a stored map and table; <paramref name="storedTexts"/> are the rows of the table in order.</summary>
    /// <exception cref="ArgumentException">The shapes do not agree.</exception>
    public TextToRowsStart(NamedTensor map, NamedTensor table, IReadOnlyList<string> storedTexts)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(storedTexts);
        if (map.Shape.Length != 2 || table.Shape.Length != 2 || map.Shape[1] != table.Shape[1] || table.Shape[0] != storedTexts.Count
            || map.Data.Length != map.ElementCount || table.Data.Length != table.ElementCount)
            throw new ArgumentException($"A start map [{string.Join(", ", map.Shape)}] and table [{string.Join(", ", table.Shape)}] for {storedTexts.Count} texts do not agree.");
        TextDim = (int)map.Shape[0] - 1;
        FeatureDim = (int)map.Shape[1] - 1;
        _map = map.Data;
        _table = table.Data;
        _stored = storedTexts.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
    }

    /// <summary>The text embedding's length.</summary>
    public int TextDim { get; }

    /// <summary>The classifier row's length.</summary>
    public int FeatureDim { get; }

    /// <summary>The map as a tensor [text dim + 1, feature dim + 1].</summary>
    public NamedTensor Map => new([TextDim + 1, FeatureDim + 1], _map);

    /// <summary>The stored texts' starts [stored texts, feature dim + 1].</summary>
    public NamedTensor Table => new([_table.Length / (FeatureDim + 1), FeatureDim + 1], _table);

    /// <summary>
    /// Fits the start for a generator's stored texts: the text-to-rows map over the seen classes' generic rows, and
    /// for each stored text (a seen class name) the start it trains against: the prediction of the cross-validation
    /// fold that held it out, so that a seen class's difference is as large as an unseen word's (in sample, the
    /// generator learned small differences and gave unseen words 41.86 % against 46.17 %, one seed, docs/RESULTS.md).
    /// </summary>
    /// <param name="generic">The zoo's generic model (a head on a frozen backbone).</param>
    /// <param name="storedTexts">The generator's class names, each one of <paramref name="labels"/>' classes.</param>
    /// <param name="labels">The dataset label of each stored text.</param>
    /// <param name="embeddings">The conditioning embedding of each stored text.</param>
    public static TextToRowsStart Fit(GenericModel generic, IReadOnlyList<string> storedTexts, IReadOnlyList<int> labels, IReadOnlyList<float[]> embeddings)
    {
        ArgumentNullException.ThrowIfNull(storedTexts);
        var fit = TextToRows.Fit(generic, labels, embeddings);
        int q = fit.FeatureDim + 1;
        var table = new float[storedTexts.Count * q];
        for (int i = 0; i < storedTexts.Count; i++)
        {
            fit.HeldOutPrediction(i).CopyTo(table, i * q);
        }
        return new TextToRowsStart(new NamedTensor([fit.TextDim + 1, q], fit.Weights()), new NamedTensor([storedTexts.Count, q], table), storedTexts);
    }

    /// <summary>
    /// The start row and bias [feature dim + 1] of a class: the stored one if <paramref name="storedText"/> is one of
    /// the checkpoint's texts, otherwise the map applied to <paramref name="embedding"/>.
    /// </summary>
    public float[] For(string? storedText, float[] embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        int q = FeatureDim + 1;
        if (storedText is not null && _stored.TryGetValue(storedText, out int i)) return _table.AsSpan(i * q, q).ToArray();
        if (embedding.Length != TextDim) throw new ArgumentException($"Expected a {TextDim}-d embedding; got {embedding.Length}.", nameof(embedding));
        var start = new float[q];
        for (int j = 0; j < q; j++)
        {
            double v = _map[TextDim * q + j];
            for (int k = 0; k < TextDim; k++) v += embedding[k] * (double)_map[k * q + j];
            start[j] = (float)v;
        }
        return start;
    }

    /// <summary>Adds <paramref name="sign"/> × <paramref name="start"/> to class slot <paramref name="slot"/> of a padded head vector.</summary>
    public static void Add(float[] padded, ParameterLayout layout, int slot, float[] start, float sign)
    {
        ArgumentNullException.ThrowIfNull(padded);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(start);
        int f = start.Length - 1;
        int rows = layout["fc.weight"].Offset + slot * f, bias = layout["fc.bias"].Offset + slot;
        for (int k = 0; k < f; k++) padded[rows + k] += sign * start[k];
        padded[bias] += sign * start[f];
    }
}
