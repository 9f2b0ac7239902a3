using Tina.MLNet.Errors;

namespace Tina.MLNet;

/// <summary>How a classifier on a pretrained backbone (resnet18) is shipped.</summary>
public enum ClassifierFormat
{
    /// <summary>
    /// One ONNX file holding the backbone and the head (input <c>image</c>): for devices that get one file. For the
    /// CIFAR networks (cnn5k, resnet20) the only format.
    /// </summary>
    OneFile,

    /// <summary>
    /// The head alone (a few KB; input <c>features</c> [N, 512]): for apps that already run ML.NET's ResNet-18
    /// (<c>DnnFeaturizeImage</c>, the package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>). The ML.NET chain built
    /// from it runs the package's backbone before the head.
    /// </summary>
    Head,
}

/// <summary>Names of <see cref="ClassifierFormat"/> on the command line and in requests: <c>onnx</c> and <c>head</c>.</summary>
public static class ClassifierFormats
{
    /// <summary>The accepted names.</summary>
    public static IReadOnlyList<string> Names { get; } = ["onnx", "head"];

    /// <summary>Parses <c>onnx</c> (one file) or <c>head</c> (case-insensitive).</summary>
    /// <exception cref="TinaException">Another name.</exception>
    public static ClassifierFormat Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "onnx" or "one-file" => ClassifierFormat.OneFile,
        "head" => ClassifierFormat.Head,
        _ => throw new TinaException($"Unknown classifier format '{name}'. Use onnx (backbone and head in one file) or head (the head alone, for apps that run ML.NET's ResNet-18)."),
    };
}
