using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Tina.MLNet;

/// <summary>Input row of a Tina classifier pipeline with the default column name: the path of one image file.</summary>
/// <remarks>
/// The file is decoded by ML.NET's <c>LoadImages</c>, inside the chain (and inside a saved zip), where Tina cannot check
/// it: an image of any size is decoded, and a small file whose header declares 30,000 × 30,000 pixels allocates
/// 3.6 GB. For files you do not control, use <see cref="TinaPredictor"/> (which checks
/// <see cref="TinaImageLimits"/> before decoding), or check each file first with <see cref="TinaImages.ReadFile"/>.
/// </remarks>
public sealed class TinaImageInput
{
    /// <summary>Path of the image file (PNG, JPEG, BMP, …), relative to the pipeline's image folder if it has one.</summary>
    [ColumnName(TinaCatalog.Defaults.ImagePathColumnName)]
    public string ImagePath { get; set; } = "";
}

/// <summary>
/// Input row of a Tina classifier pipeline over encoded image bytes (column
/// <see cref="TinaCatalog.Defaults.ImageBytesColumnName"/>): the bytes of a PNG, JPEG, BMP, WebP, … file, e.g. an
/// upload or a database blob. The chain decodes them through <see cref="TinaImages.Decode"/>, which refuses images over
/// <see cref="TinaImageLimits.Default"/> before decoding (see <see cref="TinaImageDecodingFactory"/>).
/// </summary>
public sealed class TinaImageBytesInput
{
    /// <summary>The encoded image.</summary>
    [ColumnName(TinaCatalog.Defaults.ImageBytesColumnName)]
    public byte[] ImageBytes { get; set; } = [];
}

/// <summary>
/// Input row of a Tina classifier pipeline over in-memory images (column <see cref="TinaCatalog.Defaults.ImageColumnName"/>):
/// decode bytes with <see cref="TinaImages.Decode"/> (which refuses images over <see cref="TinaImageLimits"/> before
/// decoding them) or <c>MLImage.CreateFromStream</c> (which does not). The declared 32×32 is the model's input size; images of any size
/// are accepted and resized by the pipeline.
/// </summary>
public sealed class TinaInMemoryImageInput
{
    /// <summary>The image; the caller owns and disposes it.</summary>
    [ColumnName(TinaCatalog.Defaults.ImageColumnName)]
    [ImageType(TinaCatalog.Defaults.ImageSize, TinaCatalog.Defaults.ImageSize)]
    public MLImage? Image { get; set; }
}

/// <summary>
/// Output row of a Tina classifier pipeline with the default column names. The ONNX outputs keep their batch dimension
/// of 1 in ML.NET (its OnnxTransformer cannot read a rank-0 output), hence one-element arrays for the label and the
/// class index; <see cref="Label"/> and <see cref="Index"/> give the plain values.
/// </summary>
public sealed class TinaImagePrediction
{
    /// <summary>The predicted label, as a one-element array (use <see cref="Label"/>).</summary>
    [ColumnName(TinaCatalog.Defaults.PredictedLabelColumnName)]
    public string[] PredictedLabel { get; set; } = [];

    /// <summary>Softmax probabilities, element i for the model's label i.</summary>
    [ColumnName(TinaCatalog.Defaults.ScoreColumnName)]
    public float[] Score { get; set; } = [];

    /// <summary>The predicted class index, as a one-element array (use <see cref="Index"/>).</summary>
    [ColumnName(TinaCatalog.Defaults.ClassIndexColumnName)]
    public long[] ClassIndex { get; set; } = [];

    /// <summary>The predicted label; empty before a prediction.</summary>
    [NoColumn]
    public string Label => PredictedLabel.Length > 0 ? PredictedLabel[0] : "";

    /// <summary>The predicted class index (position of <see cref="Label"/> among the model's labels); -1 before a prediction.</summary>
    [NoColumn]
    public int Index => ClassIndex.Length > 0 ? (int)ClassIndex[0] : -1;
}
