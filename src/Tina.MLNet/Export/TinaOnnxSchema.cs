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

    /// <summary>Side of the square input images of the CIFAR networks (cnn5k, resnet20): 32 pixels. ResNet-18 classifiers read 224 (<see cref="ResNet18Backbone.ImageSize"/>).</summary>
    public const int ImageSize = 32;

    /// <summary>Graph input: float [N, 3, S, S] (S = 32, or 224 for resnet18), RGB planes, values in [0, 1] (the graph normalises them itself).</summary>
    public const string InputName = "image";

    /// <summary>Doc string of the graph input for images of <paramref name="size"/>×<paramref name="size"/>.</summary>
    public static string InputDoc(int size) =>
        $"Images, float [N,3,{size},{size}]: RGB planes, values in [0,1] (pixel/255); the graph normalises them. Bring other sizes to {size}x{size} as metadata 'tina.resize' says.";

    /// <summary>
    /// Graph input of a head-only classifier (<c>tina export --format head</c>): float [N, 512], the features of the
    /// backbone named by <see cref="BackboneKey"/>, e.g. the output of ML.NET's <c>DnnFeaturizeImage</c> (ResNet18).
    /// </summary>
    public const string FeaturesInputName = "features";

    /// <summary>Doc string of <see cref="FeaturesInputName"/>.</summary>
    public const string FeaturesInputDoc = "Backbone features, float [N,512]: ML.NET's ResNet-18 (DnnFeaturizeImage with ModelSelector.ResNet18) of the image resized to 224x224 as metadata 'tina.resize' says.";

    /// <summary>
    /// Metadata key: JSON description of the frozen pretrained backbone a classifier's head was trained on, e.g.
    /// <c>{"name":"resnet18","package":"Microsoft.ML.DnnImageFeaturizer.ResNet18","sha256":"…","image_size":224,"included":true}</c>;
    /// <c>included</c> says whether the backbone is in the file (a one-file classifier) or must be run before it (a head).
    /// Absent for the CIFAR networks, whose whole network is in the file.
    /// </summary>
    public const string BackboneKey = "tina.backbone";

    /// <summary>Doc string of <see cref="ScoresName"/>.</summary>
    public const string ScoresDoc = "Softmax class probabilities, float [N,C]; column i is the probability of label i of metadata 'tina.labels'.";

    /// <summary>Doc string of <see cref="ClassIndexName"/>.</summary>
    public const string ClassIndexDoc = "Index of the most probable class, int64 [N]; the label is element i of metadata 'tina.labels'.";

    /// <summary>The resize mode written by the exporter: keep the aspect ratio, scale the shorter side to 32, crop the centre.</summary>
    public const string DefaultResizeMode = "iso-crop";

    /// <summary>The JSON value of <see cref="ResizeKey"/> for <paramref name="mode"/> (<c>iso-crop</c>, <c>iso-pad</c> or <c>fill</c>) and images of <paramref name="size"/> pixels.</summary>
    public static string ResizeJson(string mode, int size = ImageSize) =>
        $"{{\"width\":{size},\"height\":{size},\"mode\":\"{mode}\",\"anchor\":\"center\"}}";

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

    /// <summary>Metadata key: the p-Model architecture, <c>cnn5k</c>, <c>resnet20</c> or <c>resnet18</c>.</summary>
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
    /// the input and outputs; 3 added 224-pixel inputs (resnet18), <see cref="BackboneKey"/> and head-only files
    /// (input <see cref="FeaturesInputName"/>).
    /// </summary>
    public const int SchemaVersion = 3;

    /// <summary>
    /// Metadata key: JSON description of how an image that is not 32×32 must be brought to the input size, e.g.
    /// <c>{"width":32,"height":32,"mode":"iso-crop","anchor":"center"}</c>: <c>iso-crop</c> scales the shorter side to
    /// 32 and crops the centre (ML.NET's <c>ResizingKind.IsoCrop</c>, the default), <c>iso-pad</c> scales the longer
    /// side to 32 and pads, <c>fill</c> stretches. A plain stretch of a non-square photo changes its predicted class
    /// noticeably more often than the policy the model was evaluated with.
    /// </summary>
    public const string ResizeKey = "tina.resize";
}
