using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Collections.Concurrent;
using Tina.Data;
using Tina.IO;
using Tina.MLNet;
using Tina.Runtime;
using static TorchSharp.torch;

namespace Tina.Features;

/// <summary>Progress of a feature computation: images done of a total, and the rate so far.</summary>
/// <param name="What">What is being computed, e.g. "ResNet-18 features of 10,000 images".</param>
/// <param name="Done">Images done.</param>
/// <param name="Total">Images in all.</param>
/// <param name="ImagesPerSecond">Rate of this run so far (images computed now, not read from a cache).</param>
public sealed record FeatureProgress(string What, int Done, int Total, double ImagesPerSecond);

/// <summary>
/// The frozen ResNet-18's features of dataset images (<see cref="ResNet18Backbone"/>, run in ONNX Runtime): every
/// 32×32 image resized to 224×224 inside the graph, 512 features each. The backbone runs once per image set: results
/// are kept in memory for the life of the set, and on disk when <see cref="CacheDirectory"/> is set (safetensors,
/// written in chunks, so a killed computation resumes where it stopped). A set is identified by the SHA-256 of its
/// pixels and labels, so the same images give the same cache entry in every process; a set cut from another by
/// <see cref="ImageSet.Subset"/> takes its rows from the other's features.
/// </summary>
public sealed class BackboneFeatures
{
    /// <summary>Images per cache chunk: what a killed computation can lose.</summary>
    public const int ChunkImages = 2048;

    private readonly ConditionalWeakTable<ImageSet, ConcurrentDictionary<int, float[]>> _memory = [];
    private readonly ConditionalWeakTable<ImageSet, string> _keys = [];
    private readonly Lock _gate = new();
    private ResNet18Backbone? _backbone;
    private BackboneFeatureExtractor? _extractor;
    private string? _modelDirectory;

    /// <summary>The process's ResNet-18 features (the backbone from <see cref="ResNet18Backbone.DefaultDirectory"/> unless <see cref="ModelDirectory"/> says otherwise).</summary>
    public static BackboneFeatures ResNet18 { get; } = new();

    /// <summary>
    /// The <c>DnnImageModels</c> folder to read the backbone from (null: <see cref="ResNet18Backbone.DefaultDirectory"/>).
    /// Set it before the first use; changing it afterwards is refused.
    /// </summary>
    /// <exception cref="InvalidOperationException">The backbone was already loaded from another folder.</exception>
    public string? ModelDirectory
    {
        get => _modelDirectory;
        set
        {
            lock (_gate)
            {
                if (_backbone is not null && value != _modelDirectory)
                    throw new InvalidOperationException("The backbone is already loaded; set ModelDirectory before its first use.");
                _modelDirectory = value;
            }
        }
    }

    /// <summary>Folder of the disk cache (null: memory only). Tina writes nothing to disk unless it is set.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>Receives progress while features are computed (not while they are read from a cache).</summary>
    public IProgress<FeatureProgress>? Progress { get; set; }

    /// <summary>The backbone (loaded on first use).</summary>
    /// <exception cref="TinaFileNotFoundException">The package's model files are missing.</exception>
    /// <exception cref="CorruptFileException">They are not ML.NET's ResNet-18.</exception>
    public ResNet18Backbone Backbone
    {
        get
        {
            lock (_gate) return _backbone ??= ResNet18Backbone.Load(_modelDirectory);
        }
    }

    private BackboneFeatureExtractor Extractor
    {
        get
        {
            var backbone = Backbone;
            lock (_gate) return _extractor ??= new BackboneFeatureExtractor(backbone, ImageSet.Side, TorchRuntime.Threads);
        }
    }

    /// <summary>
    /// Features [N, 512] of every image of <paramref name="set"/>, in order: the plain images, or with
    /// <paramref name="view"/> ≥ 0 one seeded random crop (pad 4) + flip of each (the view's draws depend only on the
    /// view and the image's position, so every process computes the same view).
    /// </summary>
    public Tensor Of(ImageSet set, int view = -1, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        var byView = _memory.GetOrCreateValue(set);
        var data = byView.GetOrAdd(view, v => Compute(set, v, cancel));
        // A copy: the kept array must not change when a caller writes into the tensor (TorchSharp may wrap the array).
        using var shared = tensor(data, [set.Count, ResNet18Backbone.FeatureDim]);
        return shared.clone();
    }

    /// <summary>Features [N, 512] of images [N, 3, 32, 32] with values in [0, 1] (not cached).</summary>
    public Tensor Of(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim != 4 || images.shape[1] != 3 || images.shape[2] != ImageSet.Side || images.shape[3] != ImageSet.Side)
            throw new ArgumentException($"Expected images [N,3,32,32]; got [{string.Join(",", images.shape)}].", nameof(images));
        int n = (int)images.shape[0];
        using var cpu = images.to(float32).cpu().contiguous();
        var f = Extractor.Run(cpu.data<float>().ToArray(), n);
        return tensor(f, [n, ResNet18Backbone.FeatureDim]);
    }

    private float[] Compute(ImageSet set, int view, CancellationToken cancel)
    {
        // A joined set (several datasets' splits, one vocabulary) is its parts' features one after the other: each part
        // is computed (and cached) as the set it is, so a dataset's features serve it alone and joined alike.
        if (set.Parts is { } joinedParts)
        {
            var joined = new float[(long)set.Count * ResNet18Backbone.FeatureDim];
            long offset = 0;
            foreach (var part in joinedParts)
            {
                var f = _memory.GetOrCreateValue(part).GetOrAdd(view, v => Compute(part, v, cancel));
                f.CopyTo(joined, offset);
                offset += f.Length;
            }
            return joined;
        }
        // A subset (a validation split, a few classes) reads its rows from its parent's features when those exist
        // already; otherwise only its own images are computed (a small subset must not cost the whole dataset).
        if (set.Parent is var (parent, indices) && Available(parent, view))
        {
            var all = _memory.GetOrCreateValue(parent).GetOrAdd(view, v => Compute(parent, v, cancel));
            var rows = new float[(long)indices.Length * ResNet18Backbone.FeatureDim];
            for (int k = 0; k < indices.Length; k++)
                all.AsSpan(indices[k] * ResNet18Backbone.FeatureDim, ResNet18Backbone.FeatureDim).CopyTo(rows.AsSpan(k * ResNet18Backbone.FeatureDim));
            return rows;
        }
        var file = CachePath(set, view);
        if (file is not null && File.Exists(file)) return Read(file, set.Count);
        var what = $"ResNet-18 features of {set.Count:N0} images" + (view >= 0 ? $" (augmented view {view})" : "");
        var result = new float[(long)set.Count * ResNet18Backbone.FeatureDim];
        var parts = file is null ? null : file + ".parts";
        if (parts is not null) Directory.CreateDirectory(parts);
        var sw = Stopwatch.StartNew();
        int computed = 0, chunks = (set.Count + ChunkImages - 1) / ChunkImages;
        float[] zero = [0f, 0f, 0f], one = [1f, 1f, 1f];
        for (int c = 0; c < chunks; c++)
        {
            cancel.ThrowIfCancellationRequested();
            int start = c * ChunkImages, n = Math.Min(ChunkImages, set.Count - start);
            var target = result.AsMemory(start * ResNet18Backbone.FeatureDim, n * ResNet18Backbone.FeatureDim);
            var part = parts is null ? null : Path.Combine(parts, $"{c:D5}.safetensors");
            if (part is not null && File.Exists(part))
            {
                Read(part, n).CopyTo(target);
            }
            else
            {
                var idx = Enumerable.Range(start, n).ToArray();
                var rng = view >= 0 ? new Random(Seeds.Derive(0x71E3, view, c)) : null;
                var pixels = Augmentation.Batch(set, idx, zero, one, rng);
                int before = computed;
                var features = Extractor.Run(pixels, n, cancel,
                    done => Progress?.Report(new FeatureProgress(what, start + done, set.Count, (before + done) / Math.Max(sw.Elapsed.TotalSeconds, 1e-9))));
                features.CopyTo(target);
                if (part is not null) Write(part, features, n);
                computed += n;
            }
            Progress?.Report(new FeatureProgress(what, start + n, set.Count, computed / Math.Max(sw.Elapsed.TotalSeconds, 1e-9)));
        }
        if (file is not null)
        {
            Write(file, result, set.Count);
            Directory.Delete(parts!, recursive: true);
        }
        return result;
    }

    /// <summary>Whether the features of <paramref name="set"/> (and view) are in memory or in the disk cache, or can be cut from its own parent's.</summary>
    private bool Available(ImageSet set, int view) =>
        (_memory.TryGetValue(set, out var byView) && byView.ContainsKey(view))
        || (CachePath(set, view) is { } file && File.Exists(file))
        || (set.Parent is var (parent, _) && Available(parent, view))
        || (set.Parts is { } parts && parts.All(p => Available(p, view)));

    private string? CachePath(ImageSet set, int view)
    {
        if (CacheDirectory is not { } cache) return null;
        var id = Backbone.Identity.Replace("sha256:", "", StringComparison.Ordinal)[..12];
        return Path.Combine(cache, $"{ResNet18Backbone.Name}-{id}", Key(set) + (view >= 0 ? $"-view{view}" : "") + ".safetensors");
    }

    /// <summary>The content key of a set: SHA-256 of its labels and pixels (first 16 hex digits), computed once per set.</summary>
    private string Key(ImageSet set) => _keys.GetValue(set, s =>
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.Labels.AsSpan()));
        sha.AppendData(s.Pixels);
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    });

    private static void Write(string path, float[] data, int count) =>
        SafeTensors.Save(path, [new("features", new NamedTensor([count, ResNet18Backbone.FeatureDim], data))],
            new Dictionary<string, string> { ["format"] = "tina-features-v1", ["backbone"] = ResNet18Backbone.Name });

    private static float[] Read(string path, int count)
    {
        var (tensors, _) = SafeTensors.Load(path);
        if (!tensors.TryGetValue("features", out var t) || t.Shape.Length != 2 || t.Shape[0] != count || t.Shape[1] != ResNet18Backbone.FeatureDim)
            throw new CorruptFileException(path, $"expected a 'features' tensor [{count},{ResNet18Backbone.FeatureDim}]; delete the file to recompute it");
        return t.Data;
    }
}
