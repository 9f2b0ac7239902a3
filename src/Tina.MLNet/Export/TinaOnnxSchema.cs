namespace Tina.MLNet.Export;

/// <summary>
/// The contract of an ONNX file exported by Tina: the names of its input and outputs, the opset and IR version, and
/// the <c>metadata_props</c> keys that describe the model. Readers (the CLI's <c>predict</c>, the ML.NET pipeline)
/// rely on these names; changing one breaks files already written.
/// </summary>
public static class TinaOnnxSchema
{
    /// <summary>ONNX IR version written (8: understood by ONNX Runtime 1.31, ML.NET 5 and onnx ≥ 1.12).</summary>
    public const long IrVersion = 8;

    /// <summary>Version of the default ONNX operator set imported.</summary>
    public const long OpsetVersion = 17;

    /// <summary>Value of <c>producer_name</c>.</summary>
    public const string ProducerName = "Tina.MLNet";

    /// <summary>Side of the square input images (32 pixels).</summary>
    public const int ImageSize = 32;

    /// <summary>Graph input: float [N, 3, 32, 32], RGB planes, values in [0, 1] (the graph normalises them itself).</summary>
    public const string InputName = "image";

    /// <summary>Doc string of the graph input.</summary>
    public const string InputDoc = "Images, float [N,3,32,32]: RGB planes, values in [0,1] (pixel/255); the graph normalises them. Bring other sizes to 32x32 as metadata 'tina.resize' says.";

    /// <summary>Doc string of <see cref="ScoresName"/>.</summary>
    public const string ScoresDoc = "Softmax class probabilities, float [N,C]; column i is the probability of label i of metadata 'tina.labels'.";

    /// <summary>Doc string of <see cref="ClassIndexName"/>.</summary>
    public const string ClassIndexDoc = "Index of the most probable class, int64 [N]; the label is element i of metadata 'tina.labels'.";

    /// <summary>The resize mode written by the exporter: keep the aspect ratio, scale the shorter side to 32, crop the centre.</summary>
    public const string DefaultResizeMode = "iso-crop";

    /// <summary>The JSON value of <see cref="ResizeKey"/> for <paramref name="mode"/> (<c>iso-crop</c>, <c>iso-pad</c> or <c>fill</c>).</summary>
    public static string ResizeJson(string mode) =>
        $"{{\"width\":{ImageSize},\"height\":{ImageSize},\"mode\":\"{mode}\",\"anchor\":\"center\"}}";

    /// <summary>Name of the symbolic batch dimension of the input and outputs.</summary>
    public const string BatchDimension = "N";

    /// <summary>Graph output: float [N, C], softmax class probabilities (an ensemble's: the mean of its members'), column i for label i.</summary>
    public const string ScoresName = "scores";

    /// <summary>Graph output: int64 [N], index of the most probable class (argmax of the logits; of the mean softmax for an ensemble).</summary>
    public const string ClassIndexName = "class_index";

    /// <summary>Metadata key: JSON array of the class labels, in output order.</summary>
    public const string LabelsKey = "tina.labels";

    /// <summary>Metadata key: the prompt the model was generated from (by default the comma-joined labels).</summary>
    public const string PromptKey = "tina.prompt";

    /// <summary>Metadata key: the p-Model architecture, <c>cnn5k</c> or <c>resnet20</c>.</summary>
    public const string ArchKey = "tina.arch";

    /// <summary>Metadata key: how the p-Model was obtained (e.g. <c>tina</c>, <c>classifier-selection</c>); optional.</summary>
    public const string MethodKey = "tina.method";

    /// <summary>Metadata key: JSON description of the input normalisation the graph applies.</summary>
    public const string NormalizationKey = "tina.normalization";

    /// <summary>
    /// Metadata key: number of p-Models in a seed ensemble, whose mean softmax is <see cref="ScoresName"/>; written only
    /// for ensembles of two or more (absent = a single p-Model).
    /// </summary>
    public const string EnsembleSizeKey = "tina.ensemble.size";

    /// <summary>Metadata key: JSON array of the ensemble members' seeds, member order; written for ensembles whose seeds are known.</summary>
    public const string EnsembleSeedsKey = "tina.ensemble.seeds";

    /// <summary>
    /// Metadata key: version of this contract (<see cref="SchemaVersion"/>); absent in files written before it existed
    /// (read as 1).
    /// </summary>
    public const string SchemaVersionKey = "tina.schema_version";

    /// <summary>
    /// The contract version written: 2 added <see cref="SchemaVersionKey"/>, <see cref="ResizeKey"/> and doc strings on
    /// the input and outputs.
    /// </summary>
    public const int SchemaVersion = 2;

    /// <summary>
    /// Metadata key: JSON description of how an image that is not 32×32 must be brought to the input size, e.g.
    /// <c>{"width":32,"height":32,"mode":"iso-crop","anchor":"center"}</c>: <c>iso-crop</c> scales the shorter side to
    /// 32 and crops the centre (ML.NET's <c>ResizingKind.IsoCrop</c>, the default), <c>iso-pad</c> scales the longer
    /// side to 32 and pads, <c>fill</c> stretches. A plain stretch of a non-square photo changes its predicted class
    /// noticeably more often than the policy the model was evaluated with.
    /// </summary>
    public const string ResizeKey = "tina.resize";
}
