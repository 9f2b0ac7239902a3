namespace Tina.MLNet.Export;

/// <summary>What an exported Tina ONNX model says about itself (its <c>metadata_props</c> and header).</summary>
/// <param name="Labels">Class labels; <c>scores[i]</c> and <c>class_index = i</c> refer to <c>Labels[i]</c>.</param>
/// <param name="Arch">The p-Model architecture's name, e.g. <c>cnn5k</c> or <c>resnet20</c>.</param>
/// <param name="Prompt">The prompt the model was generated from.</param>
/// <param name="Method">How the p-Model was obtained, or null when not recorded.</param>
/// <param name="Normalization">JSON description of the input normalisation, or null when not recorded.</param>
/// <param name="ProducerName">The <c>producer_name</c> (Tina.MLNet for files written here).</param>
/// <param name="ProducerVersion">The <c>producer_version</c>.</param>
/// <param name="IrVersion">The ONNX IR version.</param>
/// <param name="OpsetVersion">The version of the default-domain operator set.</param>
public sealed record TinaOnnxModelInfo(
    IReadOnlyList<string> Labels,
    string Arch,
    string Prompt,
    string? Method,
    string? Normalization,
    string ProducerName,
    string ProducerVersion,
    long IrVersion,
    long OpsetVersion)
{
    /// <summary>Number of classes.</summary>
    public int NumClasses => Labels.Count;

    /// <summary>Number of p-Models whose softmax the model averages (1 for a single p-Model).</summary>
    public int EnsembleSize { get; init; } = 1;

    /// <summary>The seeds of an ensemble's members, when recorded; null otherwise.</summary>
    public IReadOnlyList<long>? EnsembleSeeds { get; init; }

    /// <summary>How images of another size are brought to <see cref="ImageSize"/> (<see cref="TinaOnnxSchema.ResizeKey"/>): <c>iso-crop</c> (also for files written before it was recorded), <c>iso-pad</c> or <c>fill</c>.</summary>
    public string ResizeMode { get; init; } = TinaOnnxSchema.DefaultResizeMode;

    /// <summary>Side of the square images the classifier reads (32 for cnn5k/resnet20, 224 for resnet18), from its input shape.</summary>
    public int ImageSize { get; init; } = TinaOnnxSchema.ImageSize;

    /// <summary>
    /// True for a head alone (<c>tina export --format head</c>): its input is <see cref="TinaOnnxSchema.FeaturesInputName"/>,
    /// the features of <see cref="Backbone"/>, which the caller runs first (ML.NET's <c>DnnFeaturizeImage</c>).
    /// </summary>
    public bool HeadOnly { get; init; }

    /// <summary>The <c>sha256:…</c> identity of the pretrained backbone the head was trained on (resnet18), or null (the CIFAR networks).</summary>
    public string? Backbone { get; init; }

    /// <summary>Version of the file contract (<see cref="TinaOnnxSchema.SchemaVersionKey"/>; 1 for files written before it was recorded).</summary>
    public int SchemaVersion { get; init; } = 1;
}
