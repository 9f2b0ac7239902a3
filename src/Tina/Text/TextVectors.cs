namespace Tina.Text;

/// <summary>Small vector helpers shared by the text encoders and their callers (similarity tables, tests).</summary>
public static class TextVectors
{
    /// <summary>Scales <paramref name="v"/> in place to unit L2 norm; a zero (or non-finite-norm) vector is left unchanged.</summary>
    public static void Normalize(Span<float> v)
    {
        double sum = 0;
        foreach (var x in v) sum += (double)x * x;
        var norm = Math.Sqrt(sum);
        if (norm == 0 || !double.IsFinite(norm)) return;
        var inv = (float)(1.0 / norm);
        for (int i = 0; i < v.Length; i++) v[i] *= inv;
    }

    /// <summary>Cosine similarity of two vectors of equal length (0 when either is the zero vector).</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Vector lengths differ: {a.Length} vs {b.Length}.");
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
