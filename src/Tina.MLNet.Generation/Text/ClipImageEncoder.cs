using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tina.Data;
using Tina.MLNet.Errors;
using Tina.Text;

namespace Tina.MLNet.Generation.Text;

/// <summary>
/// CLIP's image tower run with ONNX Runtime on an export the user provides, so that a generator trained on CLIP text
/// embeddings can be prompted with images the way the paper does (Figure 6a): a class shown by a few images is the
/// normalised mean of their normalised image embeddings. The image tower must come from the same CLIP as the text
/// tower the generator was trained with; nothing in the files can prove that, so it is the caller's promise.
/// Accepted signatures: one float input [N, 3, S, S] (Hugging Face <c>CLIPVisionModelWithProjection</c>:
/// <c>pixel_values</c>; or OpenAI style) → the output named <c>image_embeds</c>, or the only output, [N, D].
/// S may be fixed (224 for ViT-B/32) or dynamic (then 224). Preprocessing is CLIP's: the centred square of the image,
/// resized to S (with <see cref="ImageDecoder"/>'s triangle filter where CLIP uses bicubic), scaled to [0, 1] and
/// normalised with CLIP's channel means and standard deviations.
/// </summary>
public sealed class ClipImageEncoder : IDisposable
{
    /// <summary>Output name of Hugging Face exports.</summary>
    public const string ImageEmbedsOutput = "image_embeds";

    /// <summary>Input side used when the model's is dynamic (CLIP ViT-B/32's).</summary>
    public const int DefaultSize = 224;

    private static readonly float[] Mean = [0.48145466f, 0.4578275f, 0.40821073f];
    private static readonly float[] Std = [0.26862954f, 0.26130258f, 0.27577711f];

    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly string _output;
    private readonly int _batch;

    /// <summary>Loads the ONNX model at <paramref name="modelPath"/> and checks its signature.</summary>
    /// <exception cref="TinaFileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="CorruptFileException">ONNX Runtime cannot load the file.</exception>
    /// <exception cref="TinaException">The model's inputs or outputs are not a supported signature.</exception>
    public ClipImageEncoder(string modelPath, SessionOptions? options = null)
    {
        ModelPath = Path.GetFullPath(modelPath);
        _session = ClipOnnx.Open(ModelPath, options,
            "Export the image tower of the CLIP whose text tower the generator was trained with to ONNX (pixel_values [N,3,224,224] → image_embeds [N,D]) and pass its path.");
        try
        {
            (_input, _output, _batch, Size) = ReadSignature(_session, ModelPath);
            Id = "clip-image:" + ClipOnnx.ShortSha256(ModelPath);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The ONNX model in use.</summary>
    public string ModelPath { get; }

    /// <summary><c>clip-image:{first 16 hex digits of the model file's SHA-256}</c>.</summary>
    public string Id { get; }

    /// <summary>Side of the square input images in pixels.</summary>
    public int Size { get; }

    /// <summary>The L2-normalised embedding of every encoded image (PNG, JPEG, …; any size).</summary>
    /// <exception cref="InvalidDataException">A file is not an image.</exception>
    public float[][] EmbedEach(IReadOnlyList<byte[]> encodedImages)
    {
        ArgumentNullException.ThrowIfNull(encodedImages);
        int plane = Size * Size, n = encodedImages.Count;
        var result = new float[n][];
        int chunk = _batch > 0 ? _batch : Math.Max(1, n);
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start), rows = _batch > 0 ? _batch : count;
            var pixels = new float[rows * 3 * plane];
            for (int i = 0; i < count; i++)
            {
                var chw = ImageDecoder.DecodeCenterSquare(encodedImages[start + i], Size);
                for (int c = 0; c < 3; c++)
                    for (int j = 0; j < plane; j++)
                        pixels[(i * 3 + c) * plane + j] = (chw[c * plane + j] / 255f - Mean[c]) / Std[c];
            }
            using var input = OrtValue.CreateTensorValueFromMemory(pixels, [rows, 3, Size, Size]);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, [_input], [input], [_output]);
            var shape = outputs[0].GetTensorTypeAndShape().Shape;
            if (shape.Length != 2 || shape[0] != rows)
                throw new TinaException($"{ModelPath}: output '{_output}' has shape [{string.Join(", ", shape)}], expected [{rows}, D].");
            int d = checked((int)shape[1]);
            var data = outputs[0].GetTensorDataAsSpan<float>();
            for (int i = 0; i < count; i++)
            {
                var v = data.Slice(i * d, d).ToArray();
                TextVectors.Normalize(v);
                result[start + i] = v;
            }
        }
        return result;
    }

    /// <summary>The conditioning vector of a class shown by <paramref name="encodedImages"/>: the normalised mean of their normalised embeddings.</summary>
    /// <exception cref="InvalidDataException">A file is not an image.</exception>
    public float[] Embed(IReadOnlyList<byte[]> encodedImages)
    {
        ArgumentNullException.ThrowIfNull(encodedImages);
        if (encodedImages.Count == 0) throw new TinaException("An image prompt needs at least one image.");
        var each = EmbedEach(encodedImages);
        var mean = new float[each[0].Length];
        foreach (var v in each)
            for (int j = 0; j < mean.Length; j++) mean[j] += v[j];
        TextVectors.Normalize(mean);
        return mean;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose() => _session.Dispose();

    private static (string Input, string Output, int Batch, int Size) ReadSignature(InferenceSession session, string path)
    {
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;
        TinaException Unsupported(string why) => new(
            $"Unsupported CLIP image model {path}: {why}. It has {ClipOnnx.Describe(session)}. Supported: one float input [N,3,S,S] → " +
            $"{ImageEmbedsOutput} (or the only output) [N,D].");

        if (inputs.Count != 1) throw Unsupported("expected one pixel input");
        var (input, m) = (inputs.Keys.Single(), inputs.Values.Single());
        if (!m.IsTensor || m.ElementDataType != TensorElementType.Float || m.Dimensions.Length != 4 || m.Dimensions[1] is > 0 and not 3)
            throw Unsupported($"input '{input}' is not a float [N, 3, S, S] tensor");
        int h = m.Dimensions[2], w = m.Dimensions[3];
        if (h > 0 && w > 0 && h != w) throw Unsupported($"input '{input}' is not square ({h}×{w})");
        int size = h > 0 ? h : w > 0 ? w : DefaultSize;

        string output;
        if (outputs.ContainsKey(ImageEmbedsOutput)) output = ImageEmbedsOutput;
        else if (outputs.Count == 1) output = outputs.Keys.Single();
        else throw Unsupported($"several outputs and none named {ImageEmbedsOutput}");
        var o = outputs[output];
        if (!o.IsTensor || o.ElementDataType != TensorElementType.Float || o.Dimensions.Length != 2)
            throw Unsupported($"output '{output}' is not a float [N, D] tensor");
        return (input, output, m.Dimensions[0] > 0 ? m.Dimensions[0] : -1, size);
    }
}
