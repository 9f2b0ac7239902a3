using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.Tests.Text;

/// <summary>
/// CLIP tokenizer against ids published for OpenAI's tokenizer ("a photo of a cat", "a painting of a cat",
/// "bozuman", the fox sentence) and ids worked out by hand from the merges list with CLIP's algorithm.
/// </summary>
public sealed class ClipTokenizerTests
{
    private static readonly Lazy<ClipTokenizer> Shared = new(() => new ClipTokenizer(ClipTokenizer.DefaultMergesPath(TestData.DataDir)));

    private static int[] Padded(params int[] ids)
    {
        var result = new int[ClipTokenizer.ContextLength];
        ids.CopyTo(result, 0);
        return result;
    }

    [Fact]
    public void PhotoOfACat_MatchesOpenAi()
    {
        Assert.Equal(Padded(49406, 320, 1125, 539, 320, 2368, 49407), Shared.Value.Tokenize("a photo of a cat"));
    }

    [Theory]
    [InlineData("a painting of a cat", new[] { 320, 3086, 539, 320, 2368 })]
    [InlineData("bozuman", new[] { 647, 4091, 786 })] // "bo" "zu" "man</w>": several merges, word split in three
    [InlineData("The quick brown fox jumps over the lazy dog.", new[] { 518, 3712, 2866, 3240, 18911, 962, 518, 10753, 1929, 269 })]
    [InlineData("Hello, world!", new[] { 3306, 267, 1002, 256 })] // punctuation is its own token, with </w>
    [InlineData("it's 2 dogs and 3 cats", new[] { 585, 568, 273, 3255, 537, 274, 3989 })] // contraction, digits
    [InlineData("antidisestablishmentarianism", new[] { 3120, 4262, 7726, 12658, 1585, 44351 })] // anti dise stab lish ment arianism</w>
    [InlineData("  A   Photo\tof &amp;lt;cat&amp;gt;  ", new[] { 320, 1125, 539, 283, 2368, 285 })] // clean-up: whitespace, double HTML unescape, case
    [InlineData("x !\"$", new[] { 343, 0, 1, 259 })] // ids 0 ("!") and 1 ("\"") are real tokens, not padding
    [InlineData("naïve café", new[] { 1097, 35689, 563, 15304 })] // non-ASCII letters go through the byte-level alphabet
    public void Tokenize_MatchesClip(string text, int[] bpeIds)
    {
        Assert.Equal(bpeIds, Shared.Value.EncodeToIds(text));
        Assert.Equal(Padded([ClipTokenizer.StartOfText, .. bpeIds, ClipTokenizer.EndOfText]), Shared.Value.Tokenize(text));
    }

    [Fact]
    public void LongText_IsTruncatedKeepingEndOfText()
    {
        var text = string.Join(' ', Enumerable.Repeat("photo", 100));
        var ids = Shared.Value.Tokenize(text);
        Assert.Equal(ClipTokenizer.ContextLength, ids.Length);
        Assert.Equal(ClipTokenizer.StartOfText, ids[0]);
        Assert.All(ids[1..76], id => Assert.Equal(1125, id));
        Assert.Equal(ClipTokenizer.EndOfText, ids[76]);
        Assert.True(Shared.Value.IsTruncated(text));
        Assert.False(Shared.Value.IsTruncated("a photo of a cat"));
    }

    [Fact]
    public void EmptyText_IsStartAndEndOnly()
    {
        Assert.Equal(Padded(49406, 49407), Shared.Value.Tokenize("   "));
    }

    [Fact]
    public void Batch_IsRowMajor()
    {
        var batch = Shared.Value.TokenizeBatch(["a photo of a cat", "bozuman"]);
        Assert.Equal(2 * 77, batch.Length);
        Assert.Equal(Shared.Value.Tokenize("bozuman"), batch[77..]);
    }

    [Fact]
    public void MissingMergesFile_IsTypedError()
    {
        Assert.Throws<TinaFileNotFoundException>(() => new ClipTokenizer(Path.Combine(TestData.TempDir(), "none.txt.gz")));
    }
}
