using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Tina.Text;

/// <summary>
/// Persistent cache of text embeddings keyed by (encoder id, text), so training and sampling encode each class name
/// once. One binary file (default <c>{artifacts}/text/embeddings.bin</c>) holds the vectors of every encoder; it is
/// rewritten atomically after new texts are encoded, merging what other processes added meanwhile.
/// </summary>
/// <remarks>
/// Format (little-endian): magic <c>TinaEmb1</c>, int32 version (1), int32 entry count, then per entry: encoder id
/// and text (each a 7-bit-length-prefixed UTF-8 string, as <see cref="BinaryWriter"/> writes them), int32 length D,
/// D float32. Texts are keys as given (no normalisation). Thread-safe.
/// </remarks>
public sealed class EmbeddingCache
{
    private const int Version = 1;
    private static ReadOnlySpan<byte> Magic => "TinaEmb1"u8;

    private readonly Dictionary<(string Encoder, string Text), float[]> _entries = [];
    private readonly Lock _lock = new();

    /// <summary>Opens (or prepares to create) the cache file at <paramref name="path"/>.</summary>
    /// <exception cref="CorruptFileException">The file exists but is not a readable cache.</exception>
    public EmbeddingCache(string path)
    {
        FilePath = Path.GetFullPath(path);
        foreach (var (key, value) in Load(FilePath)) _entries[key] = value;
    }

    /// <summary>The default cache location under an artifacts folder: <c>{artifactsDir}/text/embeddings.bin</c>.</summary>
    public static string DefaultPath(string artifactsDir) => Path.Combine(artifactsDir, "text", "embeddings.bin");

    /// <summary>The cache file.</summary>
    public string FilePath { get; }

    /// <summary>Number of cached (encoder, text) entries.</summary>
    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    /// <summary>Looks up a cached vector (a copy).</summary>
    public bool TryGet(string encoderId, string text, [NotNullWhen(true)] out float[]? vector)
    {
        lock (_lock)
        {
            vector = _entries.TryGetValue((encoderId, text), out var v) ? (float[])v.Clone() : null;
            return vector is not null;
        }
    }

    /// <summary>
    /// The embeddings of <paramref name="texts"/> by <paramref name="encoder"/>: cached ones are returned as stored,
    /// the others are encoded in one batch, added and saved. Returns copies, in the order of <paramref name="texts"/>.
    /// </summary>
    /// <exception cref="InvalidPromptException">The encoder cannot encode one of the missing texts.</exception>
    public float[][] GetOrEncode(ITextEncoder encoder, IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(texts);
        List<string> missing;
        lock (_lock) missing = texts.Distinct(StringComparer.Ordinal).Where(t => !_entries.ContainsKey((encoder.Id, t))).ToList();
        if (missing.Count > 0)
        {
            var vectors = encoder.Encode(missing);
            if (vectors.Length != missing.Count || vectors.Any(v => v.Length != encoder.Dimension))
                throw new InvalidOperationException($"Encoder {encoder.Id} returned vectors of the wrong count or length.");
            lock (_lock)
            {
                for (int i = 0; i < missing.Count; i++) _entries[(encoder.Id, missing[i])] = vectors[i];
                Save();
            }
        }
        lock (_lock) return texts.Select(t => (float[])_entries[(encoder.Id, t)].Clone()).ToArray();
    }

    private void Save()
    {
        // Keep entries another process wrote since we loaded (ours win on conflicts: same key, same deterministic encoder).
        foreach (var (key, value) in Load(FilePath)) _entries.TryAdd(key, value);
        AtomicFile.Write(FilePath, stream =>
        {
            var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            w.Write(Version);
            w.Write(_entries.Count);
            foreach (var ((encoder, text), vector) in _entries)
            {
                w.Write(encoder);
                w.Write(text);
                w.Write(vector.Length);
                foreach (var x in vector) w.Write(x);
            }
            w.Flush();
        });
    }

    private static List<KeyValuePair<(string, string), float[]>> Load(string path)
    {
        var result = new List<KeyValuePair<(string, string), float[]>>();
        if (!File.Exists(path)) return result;
        try
        {
            using var r = new BinaryReader(File.OpenRead(path), Encoding.UTF8);
            if (!r.ReadBytes(8).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException("bad magic");
            int version = r.ReadInt32();
            if (version != Version) throw new InvalidDataException($"format version {version}, expected {Version}");
            int count = r.ReadInt32();
            if (count < 0) throw new InvalidDataException($"negative entry count {count}");
            for (int i = 0; i < count; i++)
            {
                var encoder = r.ReadString();
                var text = r.ReadString();
                int d = r.ReadInt32();
                if (d < 0 || d > 1 << 20) throw new InvalidDataException($"entry {i} has length {d}");
                var v = new float[d];
                for (int k = 0; k < d; k++) v[k] = r.ReadSingle();
                result.Add(new((encoder, text), v));
            }
            if (r.BaseStream.Position != r.BaseStream.Length) throw new InvalidDataException("trailing bytes");
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException and not FileNotFoundException && e is not ITinaError)
        {
            throw new CorruptFileException(path, $"{e.Message}; delete it and the embeddings are recomputed", e);
        }
        return result;
    }
}
