namespace Tina.PModels;

/// <summary>The p-Model (personalized model) architectures of the paper.</summary>
public enum PModelArch
{
    /// <summary>G.pt's 2-conv CIFAR CNN, about 5K parameters; every parameter is personalized.</summary>
    Cnn5k,

    /// <summary>CIFAR ResNet-20 (16/32/64 channels, batch norm); only the 64→C linear head is personalized.</summary>
    ResNet20,
}

/// <summary>Names and parsing for <see cref="PModelArch"/>.</summary>
public static class PModelArchNames
{
    /// <summary>The name used on the command line and in files: <c>cnn5k</c> or <c>resnet20</c>.</summary>
    public static string ToName(this PModelArch arch) => arch switch
    {
        PModelArch.Cnn5k => "cnn5k",
        PModelArch.ResNet20 => "resnet20",
        _ => throw new ArgumentOutOfRangeException(nameof(arch)),
    };

    /// <summary>Parses <c>cnn5k</c> / <c>resnet20</c> (case-insensitive).</summary>
    /// <exception cref="TinaException">The name is not a known architecture.</exception>
    public static PModelArch Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "cnn5k" or "cnn" or "cnn-5k" => PModelArch.Cnn5k,
        "resnet20" or "resnet" or "resnet-20" => PModelArch.ResNet20,
        _ => throw new TinaException($"Unknown p-Model architecture '{name}'. Use cnn5k or resnet20."),
    };
}
