using System.Security.Cryptography;

namespace Tina.MLNet.IO;

/// <summary>
/// The <c>sha256:…</c> identity of content, as Tina records it (zoo manifests, <c>.tina.json</c> specs, the served
/// generator's id): lower-case hex of the SHA-256, prefixed by the algorithm.
/// </summary>
public static class ContentHash
{
    /// <summary>The identity of <paramref name="bytes"/>.</summary>
    public static string Of(ReadOnlySpan<byte> bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The identity of the file at <paramref name="path"/> (read as a stream).</summary>
    public static string OfFile(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
