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

    /// <summary>Graph input: float [N, 3, 32, 32], RGB planes, values in [0, 1] (the graph normalises them itself).</summary>
    public const string InputName = "image";

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
}
