namespace Tina.PModels;

/// <summary>The p-Model (personalized model) architectures of the paper.</summary>
public enum PModelArch
{
    /// <summary>G.pt's 2-conv CIFAR CNN, about 5K parameters; every parameter is personalized.</summary>
    Cnn5k,

    /// <summary>CIFAR ResNet-20 (16/32/64 channels, batch norm); only the 64→C linear head is personalized.</summary>
    ResNet20,

    /// <summary>
    /// ML.NET's pretrained ImageNet ResNet-18 (<see cref="Tina.MLNet.ResNet18Backbone"/>, frozen, from its NuGet
    /// package) reading 224×224 images; only the 512→C linear head is personalized.
    /// </summary>
    ResNet18,
}

/// <summary>Names and parsing for <see cref="PModelArch"/>.</summary>
public static class PModelArchNames
{
    /// <summary>The name used on the command line and in files: <c>cnn5k</c>, <c>resnet20</c> or <c>resnet18</c>.</summary>
    public static string ToName(this PModelArch arch) => arch switch
    {
        PModelArch.Cnn5k => "cnn5k",
        PModelArch.ResNet20 => "resnet20",
        PModelArch.ResNet18 => "resnet18",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Parses <c>cnn5k</c> / <c>resnet20</c> / <c>resnet18</c> (case-insensitive).</summary>
    /// <exception cref="TinaException">The name is not a known architecture.</exception>
    public static PModelArch Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cnn5k" or "cnn" or "cnn-5k" => PModelArch.Cnn5k,
        "resnet20" or "resnet" or "resnet-20" => PModelArch.ResNet20,
        "resnet18" or "resnet-18" => PModelArch.ResNet18,
        _ => throw new TinaException($"Unknown p-Model architecture '{name}'. Use resnet18, resnet20 or cnn5k."),
    };

    /// <summary>
    /// True when only the linear head (fc.weight, fc.bias) is personalized and the backbone is the generic model's,
    /// frozen and shared by every p-Model (ResNet-20, ResNet-18): features can be computed once per image.
    /// </summary>
    public static bool IsHeadOnly(this PModelArch arch) => arch is PModelArch.ResNet20 or PModelArch.ResNet18;

    /// <summary>Width of the features the classifier reads: 32 (CNN-5K), 64 (ResNet-20) or 512 (ResNet-18).</summary>
    public static int FeatureDim(this PModelArch arch) => arch switch
    {
        PModelArch.Cnn5k => 32,
        PModelArch.ResNet20 => 64,
        PModelArch.ResNet18 => Tina.MLNet.ResNet18Backbone.FeatureDim,
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Side of the square images an exported classifier reads: 32 (the CIFAR networks) or 224 (ResNet-18).</summary>
    public static int InputSize(this PModelArch arch) =>
        arch == PModelArch.ResNet18 ? Tina.MLNet.ResNet18Backbone.ImageSize : Normalization.ImageSize;
}
