namespace Tina.PModels;

/// <summary>
/// Input normalisation of every p-Model, as in the paper's CIFAR code: an RGB pixel in [0, 1] becomes
/// (x − 0.5) / 0.5 per channel, i.e. values in [−1, 1]. Exported ONNX models take [0, 1] input and apply this
/// as their first operation, so callers only scale bytes by 1/255.
/// </summary>
public static class Normalization
{
    /// <summary>Per-channel mean (R, G, B).</summary>
    public static readonly float[] Mean = [0.5f, 0.5f, 0.5f];

    /// <summary>Per-channel standard deviation (R, G, B).</summary>
    public static readonly float[] Std = [0.5f, 0.5f, 0.5f];

    /// <summary>Side of the square input images, in pixels.</summary>
    public const int ImageSize = 32;
}
