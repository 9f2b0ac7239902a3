using Google.Protobuf;
using Tina.MLNet.Errors;
using Tina.MLNet.Onnx.Proto;
using Tina.MLNet.Generation.Text;
using Tina.Text;

using static Tina.Tests.Text.SyntheticOnnx;

namespace Tina.Tests.Text;

/// <summary>
/// The ONNX CLIP text encoder end to end on tiny stand-in models with CLIP's signatures (the real weights are not
/// available): ids [N,77] → Cast → MatMul with a fixed [77,D] weight, so the expected output is a matrix product of
/// the tokenizer's ids.
/// </summary>
public sealed class ClipTextEncoderTests
{
    private const int L = ClipTokenizer.ContextLength;
    private static readonly Lazy<ClipTokenizer> Tokenizer = new(() => new ClipTokenizer(ClipTokenizer.DefaultMergesPath(TestData.DataDir)));
    private static readonly string[] Texts = ["a photo of a cat", "aquarium fish", "Hello, world!", "x !\"$"]; // the last has ids 0 and 1 inside

    internal static float[] Weight(int d, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, L * d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Expected embeddings: ids·W (+ mask·W2), L2-normalised, computed in double.</summary>
    private static float[][] Expected(float[] w, float[]? w2, int d, IEnumerable<string>? texts = null)
    {
        return (texts ?? Texts).Select(t =>
        {
            var ids = Tokenizer.Value.Tokenize(t);
            int eot = Array.LastIndexOf(ids, ClipTokenizer.EndOfText);
            var v = new float[d];
            for (int j = 0; j < d; j++)
            {
                double s = 0;
                for (int i = 0; i < L; i++)
                {
                    s += (double)ids[i] * w[i * d + j];
                    if (w2 is not null && i <= eot) s += w2[i * d + j];
                }
                v[j] = (float)s;
            }
            TextVectors.Normalize(v);
            return v;
        }).ToArray();
    }

    /// <summary>OpenAI style: one ids input → one float output.</summary>
    internal static string OpenAiModel(float[] w, int d, TensorProto.Types.DataType idsType, object batch, string inputName = "input_ids")
    {
        var g = new GraphProto { Name = "clip_text" };
        g.Input.Add(Value(inputName, idsType, batch, L));
        g.Initializer.Add(Initializer("W", w, L, d));
        g.Node.Add(Node("Cast", [inputName], "ids_f", castTo: (long)TensorProto.Types.DataType.Float));
        g.Node.Add(Node("MatMul", ["ids_f", "W"], "text_features"));
        g.Output.Add(Value("text_features", TensorProto.Types.DataType.Float, batch, d));
        return Save(g);
    }

    /// <summary>Hugging Face style: input_ids + attention_mask → text_embeds (and a decoy second output).</summary>
    private static string HuggingFaceModel(float[] w, float[] w2, int d)
    {
        var g = new GraphProto { Name = "clip_text_hf" };
        g.Input.Add(Value("input_ids", TensorProto.Types.DataType.Int64, "batch", "sequence"));
        g.Input.Add(Value("attention_mask", TensorProto.Types.DataType.Int64, "batch", "sequence"));
        g.Initializer.Add(Initializer("W", w, L, d));
        g.Initializer.Add(Initializer("W2", w2, L, d));
        g.Node.Add(Node("Cast", ["input_ids"], "ids_f", castTo: (long)TensorProto.Types.DataType.Float));
        g.Node.Add(Node("Cast", ["attention_mask"], "mask_f", castTo: (long)TensorProto.Types.DataType.Float));
        g.Node.Add(Node("MatMul", ["ids_f", "W"], "a"));
        g.Node.Add(Node("MatMul", ["mask_f", "W2"], "b"));
        g.Node.Add(Node("Add", ["a", "b"], "text_embeds"));
        g.Node.Add(Node("Identity", ["ids_f"], "last_hidden_state"));
        g.Output.Add(Value("last_hidden_state", TensorProto.Types.DataType.Float, "batch", "sequence"));
        g.Output.Add(Value("text_embeds", TensorProto.Types.DataType.Float, "batch", "embedding"));
        return Save(g);
    }

    private static void AssertClose(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int j = 0; j < expected[i].Length; j++) Assert.Equal(expected[i][j], actual[i][j], 4);
        }
    }

    [Theory]
    [InlineData((int)TensorProto.Types.DataType.Int64, 512)]
    [InlineData((int)TensorProto.Types.DataType.Int32, 16)]
    public void OpenAiSignature_MatchesMatrixProduct(int idsTypeCode, int d)
    {
        var idsType = (TensorProto.Types.DataType)idsTypeCode;
        var w = Weight(d, seed: 1);
        var path = OpenAiModel(w, d, idsType, "N");
        using var encoder = new ClipTextEncoder(path, Tokenizer.Value);
        Assert.Equal(d, encoder.Dimension);
        Assert.False(encoder.UsesAttentionMask);
        Assert.Matches(d == 512 ? "^clip-vit-b32:[0-9a-f]{16}$" : "^clip-16d:[0-9a-f]{16}$", encoder.Id);
        AssertClose(Expected(w, null, d), encoder.Encode(Texts));
    }

    [Fact]
    public void HuggingFaceSignature_FeedsMaskAndReadsTextEmbeds()
    {
        const int d = 32;
        var (w, w2) = (Weight(d, seed: 2), Weight(d, seed: 3));
        using var encoder = new ClipTextEncoder(HuggingFaceModel(w, w2, d), Tokenizer.Value);
        Assert.True(encoder.UsesAttentionMask);
        Assert.Equal(d, encoder.Dimension); // probed: the declared output dimension is symbolic
        AssertClose(Expected(w, w2, d), encoder.Encode(Texts));
    }

    [Fact]
    public void FixedBatchSize_IsChunked()
    {
        const int d = 8;
        var w = Weight(d, seed: 4);
        using var encoder = new ClipTextEncoder(OpenAiModel(w, d, TensorProto.Types.DataType.Int64, 2, inputName: "text"), Tokenizer.Value);
        AssertClose(Expected(w, null, d, Texts[..3]), encoder.Encode(Texts[..3])); // 3 texts through a batch-2 model
    }

    [Fact]
    public void UnsupportedSignature_IsTypedError()
    {
        var g = new GraphProto { Name = "bad" };
        g.Input.Add(Value("pixels", TensorProto.Types.DataType.Float, "N", L));
        g.Node.Add(Node("Identity", ["pixels"], "out"));
        g.Output.Add(Value("out", TensorProto.Types.DataType.Float, "N", L));
        var e = Assert.Throws<TinaException>(() => new ClipTextEncoder(Save(g), Tokenizer.Value));
        Assert.Contains("pixels", e.Message);

        var three = new GraphProto { Name = "bad3" };
        foreach (var name in new[] { "input_ids", "attention_mask", "position_ids" })
        {
            three.Input.Add(Value(name, TensorProto.Types.DataType.Int64, "N", L));
            three.Node.Add(Node("Cast", [name], name + "_f", castTo: (long)TensorProto.Types.DataType.Float));
            three.Output.Add(Value(name + "_f", TensorProto.Types.DataType.Float, "N", L));
        }
        Assert.Throws<TinaException>(() => new ClipTextEncoder(Save(three), Tokenizer.Value));
    }

    [Fact]
    public void MissingOrBrokenModel_IsTypedError()
    {
        var dir = TestData.TempDir();
        Assert.Throws<TinaFileNotFoundException>(() => new ClipTextEncoder(Path.Combine(dir, "none.onnx"), Tokenizer.Value));
        var broken = Path.Combine(dir, "broken.onnx");
        File.WriteAllText(broken, "not onnx");
        Assert.Throws<CorruptFileException>(() => new ClipTextEncoder(broken, Tokenizer.Value));
    }

    [Fact]
    public void Factory_CreatesClipAndRejectsBadArguments()
    {
        const int d = 8;
        var model = OpenAiModel(Weight(d, seed: 5), d, TensorProto.Types.DataType.Int64, "N");
        using (var clip = TextEncoders.Create("CLIP", TestData.TempDir(), model, ClipTokenizer.DefaultMergesPath(TestData.DataDir)))
            Assert.IsType<ClipTextEncoder>(clip);
        Assert.Throws<TinaArgumentException>(() => TextEncoders.Create("clip", TestData.TempDir(), clipModelPath: null));
        Assert.Contains("glove", Assert.Throws<TinaArgumentException>(() => TextEncoders.Create("word2vec", TestData.TempDir(), null)).Message);
    }
}
