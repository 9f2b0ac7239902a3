using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.MLNet.Generation.Text;

/// <summary>
/// CLIP's text encoder (the paper's ViT-B/32 text tower) run with ONNX Runtime on an ONNX export the user provides
/// (the weights are not distributed with Tina). Texts are tokenised by <see cref="ClipTokenizer"/> into [N, 77] ids.
/// Two export signatures are accepted, recognised from the model's metadata:
/// <list type="bullet">
/// <item>OpenAI style: a single int32 or int64 input (usually <c>input_ids</c>) → a float [N, D] output (the only
/// output, or the one named <c>text_embeds</c>);</item>
/// <item>Hugging Face style (<c>CLIPTextModelWithProjection</c>): inputs <c>input_ids</c> and <c>attention_mask</c>
/// (1 up to and including <c>&lt;|endoftext|&gt;</c>, 0 on padding) → output <c>text_embeds</c> [N, D].</item>
/// </list>
/// The batch dimension may be dynamic or fixed (batches are then cut and padded to it); the sequence dimension must be
/// dynamic or 77. Outputs are L2-normalised, as for every <see cref="ITextEncoder"/>.
/// </summary>
public sealed class ClipTextEncoder : ITextEncoder
{
    /// <summary>Output name of Hugging Face exports.</summary>
    public const string TextEmbedsOutput = "text_embeds";

    private readonly InferenceSession _session;
    private readonly ClipTokenizer _tokenizer;
    private readonly string _idsInput;
    private readonly string? _maskInput;
    private readonly string _output;
    private readonly int _batch;

    /// <summary>Loads the ONNX model at <paramref name="modelPath"/> and checks its signature.</summary>
    /// <param name="modelPath">The ONNX export of CLIP's text side.</param>
    /// <param name="tokenizer">CLIP's tokenizer (from <c>bpe_simple_vocab_16e6.txt.gz</c>).</param>
    /// <param name="options">ONNX Runtime session options (default: CPU).</param>
    /// <exception cref="TinaFileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="CorruptFileException">ONNX Runtime cannot load the file.</exception>
    /// <exception cref="TinaException">The model's inputs or outputs are not one of the supported signatures.</exception>
    public ClipTextEncoder(string modelPath, ClipTokenizer tokenizer, SessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ModelPath = Path.GetFullPath(modelPath);
        _session = ClipOnnx.Open(ModelPath, options,
            "Export CLIP ViT-B/32's text encoder to ONNX (OpenAI style: input_ids → [N,512]; or Hugging Face CLIPTextModelWithProjection: input_ids, attention_mask → text_embeds) and pass its path.");
        _tokenizer = tokenizer;
        try
        {
            (_idsInput, _maskInput, _output, _batch) = ReadSignature(_session, ModelPath);
            IdsType = _session.InputMetadata[_idsInput].ElementDataType;
            Dimension = _session.OutputMetadata[_output].Dimensions[1] is > 0 and var d ? d : Run([string.Empty])[0].Length;
            Id = (Dimension == 512 ? "clip-vit-b32:" : $"clip-{Dimension}d:") + ClipOnnx.ShortSha256(ModelPath);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The ONNX model in use.</summary>
    public string ModelPath { get; }

    /// <summary>
    /// <c>clip-vit-b32:{first 16 hex digits of the model file's SHA-256}</c> (<c>clip-{D}d:…</c> when the output is
    /// not 512-d, i.e. not ViT-B/32): any other export, even of the same weights, is another encoder.
    /// </summary>
    public string Id { get; }

    /// <inheritdoc />
    public int Dimension { get; }

    /// <summary>Whether the model takes a Hugging Face style attention mask.</summary>
    public bool UsesAttentionMask => _maskInput is not null;

    /// <summary>Element type of the ids input (Int32 or Int64).</summary>
    public TensorElementType IdsType { get; }

    /// <inheritdoc />
    public float[][] Encode(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = Run(texts);
        foreach (var v in result) TextVectors.Normalize(v);
        return result;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();

    private float[][] Run(IReadOnlyList<string> texts)
    {
        const int L = ClipTokenizer.ContextLength;
        var result = new float[texts.Count][];
        int chunk = _batch > 0 ? _batch : Math.Max(1, texts.Count);
        for (int start = 0; start < texts.Count; start += chunk)
        {
            int n = Math.Min(chunk, texts.Count - start);
            int rows = _batch > 0 ? _batch : n;
            var ids = new int[rows * L];
            for (int i = 0; i < rows; i++)
                _tokenizer.Tokenize(i < n ? texts[start + i] : string.Empty).CopyTo(ids, i * L);
            // 1 from <|startoftext|> through the final <|endoftext|>, 0 on the padding after it (id 0 is also a real
            // token, "!", so the mask cannot be read off the ids).
            var mask = new int[rows * L];
            for (int i = 0; i < rows; i++)
            {
                int end = Array.LastIndexOf(ids, ClipTokenizer.EndOfText, i * L + L - 1, L) - i * L;
                mask.AsSpan(i * L, end + 1).Fill(1);
            }
            var shape = new long[] { rows, L };
            var names = new List<string> { _idsInput };
            using var values = new DisposableList { IdsValue(ids, shape) };
            if (_maskInput is not null)
            {
                names.Add(_maskInput);
                values.Add(IdsValue(mask, shape));
            }
            using var runOptions = new RunOptions();
            using (var outputs = _session.Run(runOptions, names, values, [_output]))
            {
                var output = outputs[0];
                var outShape = output.GetTensorTypeAndShape().Shape;
                if (outShape.Length != 2 || outShape[0] != rows)
                    throw new TinaException($"{ModelPath}: output '{_output}' has shape [{string.Join(", ", outShape)}], expected [{rows}, D].");
                int d = checked((int)outShape[1]);
                if (Dimension > 0 && d != Dimension)
                    throw new TinaException($"{ModelPath}: output '{_output}' has {d} columns, earlier {Dimension}.");
                var data = output.GetTensorDataAsSpan<float>();
                for (int i = 0; i < n; i++) result[start + i] = data.Slice(i * d, d).ToArray();
            }
        }
        return result;
    }

    private OrtValue IdsValue(int[] ids, long[] shape) => IdsType == TensorElementType.Int64
        ? OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(ids, x => (long)x), shape)
        : OrtValue.CreateTensorValueFromMemory(ids, shape);

    private static (string Ids, string? Mask, string Output, int Batch) ReadSignature(InferenceSession session, string path)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        TinaException Unsupported(string why) => new(
            $"Unsupported CLIP text model {path}: {why}. It has {ClipOnnx.Describe(session)}. Supported: one int32/int64 input [N,77] → one float output [N,D] " +
            $"(OpenAI style), or input_ids + attention_mask [N,77] → {TextEmbedsOutput} [N,D] (Hugging Face style).");

        string ids;
        string? mask = null;
        if (inputs.Count == 1) ids = inputs.Keys.Single();
        else if (inputs.Count == 2 && inputs.ContainsKey("input_ids") && inputs.ContainsKey("attention_mask"))
        {
            ids = "input_ids";
            mask = "attention_mask";
        }
        else throw Unsupported("expected one ids input, or input_ids and attention_mask");

        int batch = -1;
        foreach (var name in mask is null ? [ids] : new[] { ids, mask })
        {
            var m = inputs[name];
            if (!m.IsTensor || m.ElementDataType is not (TensorElementType.Int32 or TensorElementType.Int64))
                throw Unsupported($"input '{name}' is not an int32/int64 tensor");
            if (m.Dimensions.Length != 2 || m.Dimensions[1] is > 0 and not ClipTokenizer.ContextLength)
                throw Unsupported($"input '{name}' is not [N, {ClipTokenizer.ContextLength}]");
            if (m.Dimensions[0] > 0) batch = m.Dimensions[0];
        }
        if (mask is not null && inputs[mask].ElementDataType != inputs[ids].ElementDataType)
            throw Unsupported("input_ids and attention_mask have different element types");

        string output;
        if (outputs.ContainsKey(TextEmbedsOutput)) output = TextEmbedsOutput;
        else if (mask is null && outputs.Count == 1) output = outputs.Keys.Single();
        else throw Unsupported(mask is null ? "several outputs and none named text_embeds" : $"no output named {TextEmbedsOutput}");
        var o = outputs[output];
        if (!o.IsTensor || o.ElementDataType != TensorElementType.Float)
            throw Unsupported($"output '{output}' is not a float tensor");
        if (o.Dimensions.Length != 2)
            throw Unsupported($"output '{output}' is not [N, D]");
        return (ids, mask, output, batch);
    }

    private sealed class DisposableList : List<OrtValue>, IDisposable
    {
        public void Dispose()
        {
            foreach (var v in this) v.Dispose();
        }
    }
}
