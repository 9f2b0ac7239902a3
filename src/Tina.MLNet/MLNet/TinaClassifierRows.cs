using Microsoft.ML.Data;

namespace Tina.MLNet.MLNet;

/// <summary>Input row of a Tina classifier pipeline with the default column name: the path of one image file.</summary>
public sealed class TinaImageInput
{
    /// <summary>Path of the image file (PNG, JPEG, BMP, …), relative to the pipeline's image folder if it has one.</summary>
    [ColumnName(TinaClassifierOptions.DefaultImagePathColumnName)]
    public string ImagePath { get; set; } = "";
}

/// <summary>
/// Output row of a Tina classifier pipeline with the default column names. The ONNX outputs keep their batch
/// dimension of 1 in ML.NET, hence one-element arrays for the label and the class index.
/// </summary>
public sealed class TinaImagePrediction
{
    /// <summary>The predicted label, as a one-element array.</summary>
    [ColumnName(TinaClassifierOptions.DefaultPredictedLabelColumnName)]
    public string[] PredictedLabel { get; set; } = [];

    /// <summary>Softmax probabilities, element i for the model's label i.</summary>
    [ColumnName(TinaClassifierOptions.DefaultScoreColumnName)]
    public float[] Score { get; set; } = [];

    /// <summary>The predicted class index, as a one-element array.</summary>
    [ColumnName(TinaClassifierOptions.DefaultClassIndexColumnName)]
    public long[] ClassIndex { get; set; } = [];
}
