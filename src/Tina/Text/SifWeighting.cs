namespace Tina.Text;

/// <summary>
/// Smooth inverse frequency (SIF) sentence embeddings, Arora, Liang &amp; Ma, "A Simple but Tough-to-Beat Baseline
/// for Sentence Embeddings" (ICLR 2017): a text's vector is the weighted mean of its word vectors, each weighted
/// a / (a + p(w)), from which the projection on the common component (first principal component of a reference set
/// of such vectors) is removed.
/// </summary>
/// <remarks>
/// Word probabilities p(w) are not shipped with the vectors, so they are estimated from the vocabulary's frequency
/// ranks with Zipf's law: p(w) = (1 / r(w)) / H_N, where r(w) is the 1-based rank (GloVe vocabularies are sorted
/// by corpus frequency), N the vocabulary size and H_N = Σ_{k=1..N} 1/k normalises the probabilities to sum to 1.
/// With N = 341,479 words and a = 10⁻³ the weight is ≈ 0.013 for "the" (rank 1), 0.57 at rank 100 and 0.93 at
/// rank 1,000: frequent, uninformative words are damped, content words are kept.
/// </remarks>
public static class SifWeighting
{
    /// <summary>The smoothing parameter a (the paper's recommended 10⁻³).</summary>
    public const double A = 1e-3;

    /// <summary>H_N = Σ_{k=1..N} 1/k, the Zipf normaliser of a vocabulary of <paramref name="vocabularySize"/> words.</summary>
    public static double HarmonicNumber(int vocabularySize)
    {
        double h = 0;
        for (int k = vocabularySize; k >= 1; k--) h += 1.0 / k;
        return h;
    }

    /// <summary>Zipf estimate of the probability of the word of 1-based <paramref name="rank"/>.</summary>
    public static double ZipfProbability(int rank, double harmonicNumber) => 1.0 / (rank * harmonicNumber);

    /// <summary>The SIF weight a / (a + p) of a word with probability <paramref name="probability"/>.</summary>
    public static double Weight(double probability, double a = A) => a / (a + probability);

    /// <summary>
    /// The first principal component (unit length) of <paramref name="vectors"/>, uncentred as in the paper (the top
    /// right singular vector of the stacked matrix, i.e. the top eigenvector of Σ x xᵀ). Found by power iteration
    /// started from the vectors' mean, so it is deterministic; the sign is fixed so that the largest-magnitude
    /// coordinate is positive (the sign does not matter for removing the component).
    /// </summary>
    public static double[] FirstPrincipalComponent(IReadOnlyList<float[]> vectors)
    {
        if (vectors.Count == 0) throw new ArgumentException("No vectors.", nameof(vectors));
        int d = vectors[0].Length;
        var gram = new double[d, d];
        var v = new double[d];
        foreach (var x in vectors)
        {
            for (int i = 0; i < d; i++)
            {
                v[i] += x[i];
                for (int j = 0; j < d; j++) gram[i, j] += (double)x[i] * x[j];
            }
        }
        if (Normalize(v) == 0) v[0] = 1;
        var next = new double[d];
        for (int iteration = 0; iteration < 10_000; iteration++)
        {
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += gram[i, j] * v[j];
                next[i] = s;
            }
            if (Normalize(next) == 0) break;
            double change = 0;
            for (int i = 0; i < d; i++) change = Math.Max(change, Math.Abs(next[i] - v[i]));
            (v, next) = (next, v);
            if (change < 1e-13) break;
        }
        int argmax = 0;
        for (int i = 1; i < d; i++) if (Math.Abs(v[i]) > Math.Abs(v[argmax])) argmax = i;
        if (v[argmax] < 0) for (int i = 0; i < d; i++) v[i] = -v[i];
        return v;
    }

    /// <summary>Removes from <paramref name="vector"/> its projection on the unit vector <paramref name="component"/>.</summary>
    public static void RemoveComponent(Span<float> vector, ReadOnlySpan<double> component)
    {
        double dot = 0;
        for (int i = 0; i < vector.Length; i++) dot += vector[i] * component[i];
        for (int i = 0; i < vector.Length; i++) vector[i] = (float)(vector[i] - dot * component[i]);
    }

    private static double Normalize(double[] v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        s = Math.Sqrt(s);
        if (s > 0) for (int i = 0; i < v.Length; i++) v[i] /= s;
        return s;
    }
}
