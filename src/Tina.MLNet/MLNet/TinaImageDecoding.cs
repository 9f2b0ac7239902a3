using System.ComponentModel;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Microsoft.ML.Transforms;
using Tina.MLNet.Errors;

namespace Tina.MLNet;

/// <summary>
/// The step of a Tina chain that decodes an input column of encoded image bytes (PNG, JPEG, BMP, WebP, … — a
/// <c>byte[]</c> member such as <see cref="TinaImageBytesInput.ImageBytes"/>) into an in-memory image. ML.NET has no
/// built-in transform for it (<c>LoadImages</c> reads file paths only), and custom transformers cannot be saved; a
/// custom mapping with a registered factory can, so this is one: the saved zip names the contract
/// <see cref="ContractName"/>, and a context that loads the zip must know this assembly —
/// <see cref="TinaMLNetModel.Load"/> registers it, or call
/// <c>mlContext.ComponentCatalog.RegisterAssembly(typeof(TinaImageDecodingFactory).Assembly)</c> before
/// <c>mlContext.Model.Load</c>. Bytes are read through <see cref="TinaImages.Decode"/>: an image over
/// <see cref="TinaImageLimits.Default"/> throws <see cref="ImageTooLargeException"/> before it is decoded, bytes that
/// are not an image throw <see cref="CorruptFileException"/>.
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TinaImageDecodingFactory : CustomMappingFactory<TinaEncodedImageRow, TinaDecodedImageRow>
{
    /// <summary>The name saved in a model zip for this step.</summary>
    public const string ContractName = "Tina.MLNet.DecodeImageBytes";

    /// <summary>The input column the step reads (a copy of the chain's input column).</summary>
    public const string InputColumnName = "Tina.EncodedImage";

    /// <summary>The column of decoded images the step writes.</summary>
    public const string OutputColumnName = "Tina.DecodedImage";

    /// <inheritdoc />
    public override Action<TinaEncodedImageRow, TinaDecodedImageRow> GetMapping() => Decode;

    /// <summary>Decodes one row; the previous row's image (resized further down the chain by now) is disposed.</summary>
    internal static void Decode(TinaEncodedImageRow source, TinaDecodedImageRow destination)
    {
        var previous = destination.Image;
        destination.Image = TinaImages.Decode(source.Bytes ?? [], "image bytes");
        previous?.Dispose();
    }
}

/// <summary>Input row of <see cref="TinaImageDecodingFactory"/> (used by ML.NET; not meant for apps).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TinaEncodedImageRow
{
    /// <summary>The encoded image.</summary>
    [ColumnName(TinaImageDecodingFactory.InputColumnName)]
    public byte[]? Bytes { get; set; }
}

/// <summary>Output row of <see cref="TinaImageDecodingFactory"/> (used by ML.NET; not meant for apps).</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TinaDecodedImageRow
{
    /// <summary>The decoded image.</summary>
    [ColumnName(TinaImageDecodingFactory.OutputColumnName)]
    [ImageType(TinaCatalog.Defaults.ImageSize, TinaCatalog.Defaults.ImageSize)]
    public MLImage? Image { get; set; }
}
