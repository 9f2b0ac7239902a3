using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Tina.MLNet.Errors;

namespace Tina.MLNet.Generation.Text;

/// <summary>What CLIP's two ONNX towers (<see cref="ClipTextEncoder"/>, <see cref="ClipImageEncoder"/>) share: opening a user-supplied export with typed errors, describing its signature, naming it by content.</summary>
internal static class ClipOnnx
{
    /// <summary>Opens the ONNX model at <paramref name="path"/>; <paramref name="howToGetOne"/> is the hint of the missing-file error.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">ONNX Runtime cannot load it.</exception>
    public static InferenceSession Open(string path, SessionOptions? options, string howToGetOne)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, howToGetOne);
        try
        {
            return options is null ? new InferenceSession(path) : new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CorruptFileException(path, $"ONNX Runtime cannot load the model: {e.Message}", e);
        }
    }

    /// <summary>The model's inputs and outputs with their element types and shapes, for error messages.</summary>
    public static string Describe(InferenceSession session) =>
        $"inputs [{string.Join(", ", session.InputMetadata.Select(i => $"{i.Key}: {i.Value.ElementDataType}[{string.Join(",", i.Value.Dimensions)}]"))}], " +
        $"outputs [{string.Join(", ", session.OutputMetadata.Select(o => $"{o.Key}: {o.Value.ElementDataType}[{string.Join(",", o.Value.Dimensions)}]"))}]";

    /// <summary>The first 16 hex digits of the file's SHA-256: any other export, even of the same weights, is another model.</summary>
    public static string ShortSha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..16];
    }
}
