namespace Tina.Text;

/// <summary>The GloVe embedding of one text, with the words it was built from and those skipped as unknown.</summary>
/// <param name="Text">The encoded text, as given.</param>
/// <param name="Vector">The unit-length SIF embedding.</param>
/// <param name="Words">The lower-cased words found in the vocabulary (in order, repeats kept).</param>
/// <param name="UnknownWords">Words not in the vocabulary, skipped (in order, repeats kept); empty when all were known.</param>
public sealed record GloveEncoding(string Text, float[] Vector, IReadOnlyList<string> Words, IReadOnlyList<string> UnknownWords);
