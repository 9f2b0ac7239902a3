using Tina.PModels;
using Tina.Runtime;
using Tina.Tasks;
using static TorchSharp.torch;

namespace Tina.Generic;

/// <summary>
/// The zero-shot baseline for classes without a trained row (DeViSE/ConSE style): a linear map from a class's text
/// embedding to its classifier row and bias, fitted by ridge regression on the generic model's rows of the classes
/// it may see (the seen classes), so a row for any text — a class the zoo never held, a description — comes from words
/// alone. Tina must beat it on unseen classes. The ridge strength is chosen by k-fold cross-validation over the seen
/// classes (each fold's classes held out, their rows predicted from the others): a validation split of classes.
/// </summary>
public sealed class TextToRows
{
    /// <summary>The ridge strengths tried (relative to the mean squared norm of the text embeddings).</summary>
    public static IReadOnlyList<double> Lambdas { get; } = [0.001, 0.01, 0.1, 1, 10, 100];

    private readonly double[] _w; // [textDim + 1, featureDim + 1]: text (plus a constant 1) → row and bias
    private readonly int _textDim, _featureDim;

    private TextToRows(double[] w, int textDim, int featureDim, PModelArch arch, double lambda, double validationError, GenericModel generic, double[] heldOut)
    {
        _w = w;
        _heldOut = heldOut;
        _textDim = textDim;
        _featureDim = featureDim;
        Arch = arch;
        Lambda = lambda;
        ValidationError = validationError;
        // ResNet-20's backbone is part of the p-Model; ResNet-18's is the package's, outside it.
        if (arch == PModelArch.ResNet20)
        {
            var state = StateDict.Export(generic.Network);
            state.Remove("fc.weight");
            state.Remove("fc.bias");
            _frozen = state;
        }
    }

    private readonly IReadOnlyDictionary<string, NamedTensor>? _frozen;
    private readonly double[] _heldOut; // [seen classes, featureDim + 1]: each predicted by the fold that did not see it

    /// <summary>The text embedding's length.</summary>
    public int TextDim => _textDim;

    /// <summary>The classifier row's length (the backbone's feature count).</summary>
    public int FeatureDim => _featureDim;

    /// <summary>
    /// The map as numbers [<see cref="TextDim"/> + 1, <see cref="FeatureDim"/> + 1]: text (then a constant 1) → row
    /// (then bias), row-major.
    /// </summary>
    public float[] Weights() => _w.Select(v => (float)v).ToArray();

    /// <summary>
    /// The row and bias of the <paramref name="seenIndex"/>-th seen class (in the order given to <see cref="Fit(GenericModel, IReadOnlyList{int}, IReadOnlyList{float[]}, int, int)"/>)
    /// as predicted by the cross-validation fold that held it out, at <see cref="Lambda"/>: what the map makes of a
    /// class it never saw, for a class whose true row is known. [<see cref="FeatureDim"/> + 1], the bias last.
    /// </summary>
    public float[] HeldOutPrediction(int seenIndex)
    {
        int q = _featureDim + 1;
        ArgumentOutOfRangeException.ThrowIfNegative(seenIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(seenIndex, _heldOut.Length / q);
        return _heldOut.AsSpan(seenIndex * q, q).ToArray().Select(v => (float)v).ToArray();
    }

    /// <summary>The architecture of the p-Models it makes (a head-only one: ResNet-20 or ResNet-18).</summary>
    public PModelArch Arch { get; }

    /// <summary>The ridge strength chosen by cross-validation.</summary>
    public double Lambda { get; }

    /// <summary>The cross-validated mean squared error of a predicted row (and bias) per number, at <see cref="Lambda"/>.</summary>
    public double ValidationError { get; }

    /// <summary>
    /// Fits the map on the rows of <paramref name="seenClasses"/> (labels of <paramref name="data"/>) of
    /// <paramref name="generic"/>, their class names embedded by <paramref name="embed"/> (which may embed another text
    /// per name, e.g. its description): how <c>tina eval</c> and <c>tina export --method text-to-rows</c> fit it.
    /// </summary>
    /// <exception cref="TinaException">The architecture generates more than a head, or too few classes.</exception>
    public static TextToRows Fit(GenericModel generic, Data.ImageDataset data, IReadOnlyList<int> seenClasses, Func<IReadOnlyList<string>, float[][]> embed)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(seenClasses);
        ArgumentNullException.ThrowIfNull(embed);
        return Fit(generic, seenClasses, embed(seenClasses.Select(c => data.ClassNames[c]).ToList()));
    }

    /// <summary>
    /// Fits the map on the rows of <paramref name="seenClasses"/> of <paramref name="generic"/>, given the text
    /// embedding of each (<paramref name="texts"/>, same order).
    /// </summary>
    /// <param name="generic">A generic model with a linear head on a frozen backbone (resnet20, resnet18).</param>
    /// <param name="seenClasses">Labels whose rows may be used; at least <paramref name="folds"/>.</param>
    /// <param name="texts">The text embedding of each seen class, in the order of <paramref name="seenClasses"/>.</param>
    /// <param name="folds">Folds of the cross-validation over classes.</param>
    /// <param name="seed">Seed of the fold assignment.</param>
    /// <exception cref="TinaException">The architecture generates more than a head, or too few classes.</exception>
    public static TextToRows Fit(GenericModel generic, IReadOnlyList<int> seenClasses, IReadOnlyList<float[]> texts, int folds = 5, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(seenClasses);
        ArgumentNullException.ThrowIfNull(texts);
        if (!generic.Arch.IsHeadOnly()) throw new TinaException($"text-to-rows predicts classifier rows; a {generic.Arch.ToName()} p-Model is more than a head.");
        if (seenClasses.Count != texts.Count) throw new ArgumentException($"{seenClasses.Count} classes but {texts.Count} text embeddings.", nameof(texts));
        if (seenClasses.Count < Math.Max(folds, 2)) throw new TinaException($"text-to-rows needs at least {Math.Max(folds, 2)} seen classes; got {seenClasses.Count}.");
        var state = StateDict.Export(generic.Network);
        var w = state["fc.weight"];
        var b = state["fc.bias"];
        int n = seenClasses.Count, textDim = texts[0].Length, featureDim = (int)w.Shape[1];
        var x = new double[n * (textDim + 1)];
        var y = new double[n * (featureDim + 1)];
        for (int i = 0; i < n; i++)
        {
            if (texts[i].Length != textDim) throw new ArgumentException("The text embeddings differ in length.", nameof(texts));
            for (int k = 0; k < textDim; k++) x[i * (textDim + 1) + k] = texts[i][k];
            x[i * (textDim + 1) + textDim] = 1;
            int c = seenClasses[i];
            for (int k = 0; k < featureDim; k++) y[i * (featureDim + 1) + k] = w.Data[c * featureDim + k];
            y[i * (featureDim + 1) + featureDim] = b.Data[c];
        }
        double scale = Enumerable.Range(0, n).Average(i => texts[i].Sum(v => (double)v * v)); // λ relative to the inputs' size
        var fold = Enumerable.Range(0, n).Select(i => i % folds).ToArray();
        new Random(seed).Shuffle(fold);
        double bestError = double.PositiveInfinity, bestLambda = Lambdas[0];
        foreach (var lambda in Lambdas)
        {
            double error = 0;
            for (int f = 0; f < folds; f++)
            {
                var train = Enumerable.Range(0, n).Where(i => fold[i] != f).ToArray();
                var held = Enumerable.Range(0, n).Where(i => fold[i] == f).ToArray();
                var wf = Solve(x, y, train, textDim + 1, featureDim + 1, lambda * scale);
                error += SquaredError(x, y, wf, held, textDim + 1, featureDim + 1);
            }
            error /= (double)n * (featureDim + 1);
            if (error < bestError) (bestError, bestLambda) = (error, lambda);
        }
        var heldOut = new double[n * (featureDim + 1)];
        for (int f = 0; f < folds; f++)
        {
            var held = Enumerable.Range(0, n).Where(i => fold[i] == f).ToArray();
            var wf = Solve(x, y, Enumerable.Range(0, n).Where(i => fold[i] != f).ToArray(), textDim + 1, featureDim + 1, bestLambda * scale);
            foreach (var i in held) Multiply(x, wf, i, textDim + 1, featureDim + 1, heldOut.AsSpan(i * (featureDim + 1), featureDim + 1));
        }
        var all = Solve(x, y, Enumerable.Range(0, n).ToArray(), textDim + 1, featureDim + 1, bestLambda * scale);
        return new TextToRows(all, textDim, featureDim, generic.Arch, bestLambda, bestError, generic, heldOut);
    }

    /// <summary>The predicted classifier row and bias of a class with text embedding <paramref name="text"/>.</summary>
    public (float[] Row, float Bias) Predict(float[] text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length != _textDim) throw new ArgumentException($"Expected a {_textDim}-d text embedding; got {text.Length}.", nameof(text));
        var row = new float[_featureDim];
        float bias = 0;
        for (int j = 0; j <= _featureDim; j++)
        {
            double v = _w[_textDim * (_featureDim + 1) + j]; // the constant input
            for (int k = 0; k < _textDim; k++) v += text[k] * _w[k * (_featureDim + 1) + j];
            if (j < _featureDim) row[j] = (float)v;
            else bias = (float)v;
        }
        return (row, bias);
    }

    /// <summary>The p-Model of classes with the given labels and text embeddings: rows and biases predicted from the texts.</summary>
    public PModel Create(IReadOnlyList<string> labels, IReadOnlyList<float[]> texts)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(texts);
        var layout = ParameterLayout.For(Arch, labels.Count);
        var vector = new float[layout.Count];
        var rows = layout.Slice(vector, "fc.weight");
        var biases = layout.Slice(vector, "fc.bias");
        for (int i = 0; i < labels.Count; i++)
        {
            var (row, bias) = Predict(texts[i]);
            row.CopyTo(rows.Slice(i * _featureDim, _featureDim));
            biases[i] = bias;
        }
        return new PModel(Arch, labels, vector, _frozen);
    }

    /// <summary>Ridge solution over the rows <paramref name="use"/> of X [n, p] and Y [n, q]: (XᵀX + λI)⁻¹ XᵀY, [p, q] (the constant column unpenalised).</summary>
    private static double[] Solve(double[] x, double[] y, int[] use, int p, int q, double lambda)
    {
        using var scope = NewDisposeScope();
        var idx = tensor(use.Select(i => (long)i).ToArray());
        var xs = tensor(x, [x.Length / p, p], float64).index_select(0, idx);
        var ys = tensor(y, [y.Length / q, q], float64).index_select(0, idx);
        var penalty = ones(p, float64);
        penalty[p - 1] = tensor(0.0, float64);
        var gram = xs.T.matmul(xs).Plus(diag(penalty).Times(lambda));
        var solution = linalg.solve(gram, xs.T.matmul(ys)).contiguous();
        return solution.data<double>().ToArray();
    }

    private static double SquaredError(double[] x, double[] y, double[] w, int[] held, int p, int q)
    {
        double sum = 0;
        var v = new double[q];
        foreach (var i in held)
        {
            Multiply(x, w, i, p, q, v);
            for (int j = 0; j < q; j++)
            {
                double d = v[j] - y[i * q + j];
                sum += d * d;
            }
        }
        return sum;
    }

    /// <summary>Row <paramref name="i"/> of X [n, p] times W [p, q], into <paramref name="into"/> [q].</summary>
    private static void Multiply(double[] x, double[] w, int i, int p, int q, Span<double> into)
    {
        for (int j = 0; j < q; j++)
        {
            double v = 0;
            for (int k = 0; k < p; k++) v += x[i * p + k] * w[k * q + j];
            into[j] = v;
        }
    }
}
