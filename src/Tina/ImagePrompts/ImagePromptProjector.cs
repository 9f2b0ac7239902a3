using Tina.Data;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Runtime;
using Tina.Text;
using static TorchSharp.torch;

namespace Tina.ImagePrompts;

/// <summary>
/// Image prompts without CLIP (the paper's Figure 6a, DeViSE-style): a linear map from the generic model's pooled image
/// features into the text encoder's embedding space, fitted on the training split by ridge regression onto the
/// embedding of each image's class name. A class shown by a few images gets the normalised mean of their projections
/// as its conditioning vector, so a generator trained on text prompts can be prompted with images, zero-shot.
/// Owns its file format: a safetensors file with <c>weight</c> [F + 1, D] (the last row is the bias) and metadata
/// naming the dataset, architecture, generic model and text encoder it was fitted with.
/// </summary>
public sealed class ImagePromptProjector
{
    private const string Format = "tina-image-prompts-v1";
    private readonly float[] _weight; // [(F + 1) · D] row-major

    private ImagePromptProjector(float[] weight, int featureDim, int textDim, string textEncoderId, string dataset, string arch, string genericModel)
    {
        _weight = weight;
        FeatureDim = featureDim;
        TextDim = textDim;
        TextEncoderId = textEncoderId;
        Dataset = dataset;
        Arch = arch;
        GenericModel = genericModel;
    }

    /// <summary>Where <c>tina image-prompts fit</c> writes the projector of a dataset and architecture: ARTIFACTS/image-prompts/DATASET-ARCH.safetensors.</summary>
    public static string DefaultPath(string artifactsDir, string dataset, string arch) => Path.Combine(artifactsDir, "image-prompts", $"{dataset}-{arch}.safetensors");

    /// <summary>Length of the generic model's pooled features.</summary>
    public int FeatureDim { get; }

    /// <summary>Length of the text embeddings it maps into.</summary>
    public int TextDim { get; }

    /// <summary>Id of the text encoder whose space it maps into (a generator trained with another encoder cannot use it).</summary>
    public string TextEncoderId { get; }

    /// <summary>Dataset it was fitted on.</summary>
    public string Dataset { get; }

    /// <summary>Architecture of the generic model.</summary>
    public string Arch { get; }

    /// <summary>Path of the generic model whose features it reads (without extension).</summary>
    public string GenericModel { get; }

    /// <summary>
    /// Fits the projector on the training images of <paramref name="data"/>: features of <paramref name="generic"/>
    /// (with a bias column) → unit-length embedding of the image's class name, ridge penalty <paramref name="ridge"/>.
    /// </summary>
    public static ImagePromptProjector Fit(GenericModel generic, string genericPath, ImageDataset data, ITextEncoder text, double ridge = 1.0)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(text);
        if (ridge < 0 || double.IsNaN(ridge)) throw new TinaException($"The ridge penalty must be 0 or more; got {ridge}.");
        TorchRuntime.UseOnThisThread();
        var names = text.Encode(data.ClassNames);
        int d = text.Dimension;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var f = Accuracy.Features(generic.Network, data.Train).to(float64);
        long n = f.shape[0], fd = f.shape[1];
        var x = cat([f, ones(n, 1, dtype: float64)], 1);                                   // [N, F + 1]
        var targets = tensor(names.SelectMany(v => v).ToArray(), [data.NumClasses, d]).to(float64);
        var y = targets.index_select(0, tensor(data.Train.Labels.Select(l => (long)l).ToArray()));  // [N, D]
        var gram = x.t().matmul(x);
        var penalty = eye(fd + 1, dtype: float64).Times(ridge);
        var w = linalg.solve(gram.Plus(penalty), x.t().matmul(y));                           // [F + 1, D]
        return new ImagePromptProjector(w.to(float32).contiguous().data<float>().ToArray(), (int)fd, d, text.Id, data.Name, generic.Arch.ToName(), Path.GetFullPath(genericPath));
    }

    /// <summary>
    /// The conditioning vector of a class shown by the images at <paramref name="indices"/> of <paramref name="set"/>:
    /// each image's features projected and normalised, averaged, normalised.
    /// </summary>
    public float[] Embed(GenericModel generic, ImageSet set, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(generic);
        ArgumentNullException.ThrowIfNull(set);
        if (indices is null || indices.Count == 0) throw new TinaException("An image prompt needs at least one image.");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = new byte[indices.Count * ImageSet.ImageBytes];
        for (int i = 0; i < indices.Count; i++) set.Image(indices[i]).CopyTo(pixels.AsSpan(i * ImageSet.ImageBytes));
        var z = Project(Accuracy.Features(generic.Network, new ImageSet(pixels, new int[indices.Count]))).mean([0L]);
        var v = z.data<float>().ToArray();
        TextVectors.Normalize(v);
        return v;
    }

    /// <summary>
    /// Checks that the projector maps into the space of the text encoder <paramref name="encoderId"/> (what
    /// <paramref name="user"/>, e.g. "the generator", was trained with); returns the projector.
    /// </summary>
    /// <exception cref="TinaException">It was fitted with another encoder: its vectors would mean nothing to the user.</exception>
    public ImagePromptProjector RequireEncoder(string encoderId, string user)
    {
        if (TextEncoderId != encoderId)
            throw new TinaException($"The image-prompt projector maps into {TextEncoderId}, but {user} uses {encoderId}; fit a projector with that encoder (tina image-prompts fit --encoder …).");
        return this;
    }

    /// <summary>Each row of generic-model features [N, F] projected into the text space and normalised: [N, D].</summary>
    /// <exception cref="TinaException">The features are not the length the projector was fitted on.</exception>
    public Tensor Project(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.ndim != 2 || features.shape[1] != FeatureDim) throw new TinaException($"The generic model gives [{string.Join(", ", features.shape)}] features; this projector was fitted on {FeatureDim}.");
        using var scope = NewDisposeScope();
        var x = cat([features, ones(features.shape[0], 1)], 1);
        using var w = tensor(_weight, [FeatureDim + 1, TextDim]);
        return nn.functional.normalize(x.matmul(w), dim: 1).MoveToOuterDisposeScope();
    }

    /// <summary>The conditioning vector of a class shown by encoded image files (PNG, JPEG, …; any size, resized to 32×32).</summary>
    /// <exception cref="InvalidDataException">A file is not an image.</exception>
    public float[] Embed(GenericModel generic, IReadOnlyList<byte[]> encodedImages)
    {
        ArgumentNullException.ThrowIfNull(encodedImages);
        var pixels = new byte[encodedImages.Count * ImageSet.ImageBytes];
        for (int i = 0; i < encodedImages.Count; i++) ImageDecoder.DecodeInto(encodedImages[i], pixels.AsSpan(i * ImageSet.ImageBytes, ImageSet.ImageBytes));
        return Embed(generic, new ImageSet(pixels, new int[encodedImages.Count]), Enumerable.Range(0, encodedImages.Count).ToArray());
    }

    /// <summary>Writes the projector to <paramref name="path"/> (safetensors, atomically).</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        SafeTensors.Save(Path.GetFullPath(path), [KeyValuePair.Create("weight", new NamedTensor([FeatureDim + 1, TextDim], _weight))], new Dictionary<string, string>
        {
            ["format"] = Format, ["text_encoder"] = TextEncoderId, ["dataset"] = Dataset, ["arch"] = Arch, ["generic_model"] = GenericModel,
        });
    }

    /// <summary>Reads a projector written by <see cref="Save"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">It is not a projector file.</exception>
    public static ImagePromptProjector Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Fit one first: tina image-prompts fit --arch ARCH.");
        var (tensors, meta) = SafeTensors.Load(path);
        if (!meta.TryGetValue("format", out var format) || format != Format || !tensors.TryGetValue("weight", out var w) || w.Shape.Length != 2)
            throw new CorruptFileException(path, $"not a {Format} file");
        return new ImagePromptProjector(w.Data, (int)w.Shape[0] - 1, (int)w.Shape[1], meta.GetValueOrDefault("text_encoder", ""),
            meta.GetValueOrDefault("dataset", ""), meta.GetValueOrDefault("arch", ""), meta.GetValueOrDefault("generic_model", ""));
    }
}
