using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tina.IO;

/// <summary>
/// Reader and writer for the safetensors format (8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data), so that weights written here load in
/// Python with <c>safetensors.torch.load_file</c>. Only F32 tensors are written; F32 is the only dtype read.
/// Hand-written because no .NET safetensors package is available on the feed; the format is ~40 lines.
/// </summary>
public static class SafeTensors
{
    /// <summary>Writes <paramref name="tensors"/> (in the given order) and string <paramref name="metadata"/> atomically.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, NamedTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        foreach (var (name, t) in list)
        {
            if (t.Data.Length != t.ElementCount)
                throw new ArgumentException($"Tensor '{name}' has {t.Data.Length} values but shape [{string.Join(",", t.Shape)}].");
            long bytes = (long)t.Data.Length * 4;
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        var json = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString());
        // Pad the header with spaces to an 8-byte boundary, as the reference writer does.
        int pad = (8 - json.Length % 8) % 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)(json.Length + pad));
            s.Write(len);
            s.Write(json);
            for (int i = 0; i < pad; i++) s.WriteByte((byte)' ');
            foreach (var (_, t) in list)
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
                s.Write(MemoryMarshal.AsBytes(t.Data.AsSpan()));
            }
        });
    }

    /// <summary>Reads all tensors (in file order) and the metadata of a safetensors file.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The header or the data ranges are invalid.</exception>
    public static (Dictionary<string, NamedTensor> Tensors, Dictionary<string, string> Metadata) Load(string path)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Expected a safetensors weights file.");
        byte[] all = File.ReadAllBytes(path);
        try
        {
            if (all.Length < 8) throw new InvalidDataException("shorter than the 8-byte header length");
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(all);
            if (n > (ulong)(all.Length - 8)) throw new InvalidDataException($"header length {n} exceeds the file size {all.Length}");
            var header = JsonNode.Parse(all.AsSpan(8, (int)n)) as JsonObject ?? throw new InvalidDataException("header is not a JSON object");
            long dataStart = 8 + (long)n;
            var tensors = new List<(long Start, string Name, NamedTensor T)>();
            var meta = new Dictionary<string, string>();
            foreach (var (name, node) in header)
            {
                if (name == "__metadata__")
                {
                    foreach (var (k, v) in node!.AsObject()) meta[k] = v!.GetValue<string>();
                    continue;
                }
                var o = node!.AsObject();
                var dtype = o["dtype"]!.GetValue<string>();
                if (dtype != "F32") throw new InvalidDataException($"tensor '{name}' has dtype {dtype}; only F32 is supported");
                var shape = o["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var offs = o["data_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                long count = shape.Aggregate(1L, (a, b) => a * b);
                if (offs.Length != 2 || offs[1] - offs[0] != count * 4 || dataStart + offs[1] > all.Length || offs[0] < 0)
                    throw new InvalidDataException($"tensor '{name}' has data range [{string.Join(",", offs)}] that does not match shape [{string.Join(",", shape)}] or the file size");
                var data = new float[count];
                MemoryMarshal.Cast<byte, float>(all.AsSpan((int)(dataStart + offs[0]), (int)(count * 4))).CopyTo(data);
                tensors.Add((offs[0], name, new NamedTensor(shape, data)));
            }
            var ordered = new Dictionary<string, NamedTensor>();
            foreach (var t in tensors.OrderBy(t => t.Start)) ordered[t.Name] = t.T;
            return (ordered, meta);
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException && e is not ITinaError)
        {
            throw new CorruptFileException(path, e.Message, e);
        }
    }
}
