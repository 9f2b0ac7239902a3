namespace Tina.MLNet;

/// <summary>
/// Settings of the <see cref="TinaPredictor"/> that
/// <see cref="Microsoft.Extensions.DependencyInjection.TinaServiceCollectionExtensions.AddTinaPredictor(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{TinaPredictorOptions}?)"/>
/// registers; bound from the configuration section <see cref="SectionName"/> (<c>appsettings.json</c>:
/// <c>"Tina": { "ModelPath": "fruit.zip" }</c>, environment: <c>Tina__ModelPath</c>) and checked when the app starts.
/// </summary>
public sealed class TinaPredictorOptions
{
    /// <summary>The configuration section read by default: <c>Tina</c>.</summary>
    public const string SectionName = "Tina";

    /// <summary>The model: a <c>.onnx</c> file exported by Tina or an ML.NET <c>.zip</c> built from one. Relative paths are relative to the app's working folder. Required.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Largest encoded image accepted, in bytes; null: <see cref="TinaImageLimits.Default"/> (20 MB).</summary>
    public long? MaxImageBytes { get; set; }

    /// <summary>Most pixels (width × height) an image's header may declare; null: the default (40 megapixels).</summary>
    public long? MaxImagePixels { get; set; }

    /// <summary>Longest side in pixels an image's header may declare; null: the default (20,000).</summary>
    public int? MaxImageSide { get; set; }

    /// <summary>The image limits these options describe.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is below 1.</exception>
    public TinaImageLimits ToImageLimits() => new()
    {
        MaxBytes = MaxImageBytes ?? TinaImageLimits.Default.MaxBytes,
        MaxPixels = MaxImagePixels ?? TinaImageLimits.Default.MaxPixels,
        MaxSide = MaxImageSide ?? TinaImageLimits.Default.MaxSide,
    };
}
