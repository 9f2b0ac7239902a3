using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.IO;

namespace Tina.MLNet;

/// <summary>
/// A Tina classifier as a fitted ML.NET model: build it from ONNX bytes or a p-Model, save it as an ML.NET zip (with
/// its input schema, so it loads with a fresh <see cref="MLContext"/>), load it back, read the Tina model inside.
/// </summary>
public static class TinaMLNetModel
{
    /// <summary>Fits <see cref="TinaClassifierEstimator"/> (no data needed) and returns the transformer chain.</summary>
    public static TransformerChain<ITransformer> Build(MLContext mlContext, TinaClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var estimator = new TinaClassifierEstimator(mlContext.Transforms, options);
        return estimator.Fit(EmptyInput(mlContext, options.InputColumnName));
    }

    /// <summary>An empty data view with a single text column <paramref name="imagePathColumnName"/>: the input of a pipeline over image files.</summary>
    public static IDataView EmptyInput(MLContext mlContext, string imagePathColumnName = TinaCatalog.Defaults.ImagePathColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var definition = SchemaDefinition.Create(typeof(TinaImageInput));
        definition[0].ColumnName = imagePathColumnName;
        return mlContext.Data.LoadFromEnumerable(Array.Empty<TinaImageInput>(), definition);
    }

    /// <summary>An empty data view with a single image column <paramref name="imageColumnName"/>: the input of a pipeline over in-memory images (<see cref="TinaInMemoryImageInput"/>).</summary>
    public static IDataView EmptyImageInput(MLContext mlContext, string imageColumnName = TinaCatalog.Defaults.ImageColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var definition = SchemaDefinition.Create(typeof(TinaInMemoryImageInput));
        definition[0].ColumnName = imageColumnName;
        return mlContext.Data.LoadFromEnumerable(Array.Empty<TinaInMemoryImageInput>(), definition);
    }

    /// <summary>
    /// The ML.NET model of the ONNX classifier <paramref name="onnx"/> over in-memory images, as the bytes of its zip:
    /// the chain of <see cref="TinaClassifierEstimator"/> on the image column
    /// <see cref="TinaCatalog.Defaults.ImageColumnName"/>, saved without an input schema (ML.NET cannot save an image
    /// column's; <see cref="Save"/>) and with fixed entry times (<see cref="ToBytes"/>). What <c>tina new</c> writes as
    /// <c>NAME.mlnet</c>: the app that loads it needs ML.NET and ONNX Runtime alone.
    /// </summary>
    /// <exception cref="InvalidModelException">The bytes are not a Tina classifier.</exception>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    public static byte[] InMemoryImageModelBytes(byte[] onnx)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var ml = new MLContext(seed: 0);
        using var chain = new TinaClassifierEstimator(ml.Transforms, new TinaClassifierOptions { OnnxModel = onnx, InputColumnName = TinaCatalog.Defaults.ImageColumnName })
            .Fit(EmptyImageInput(ml));
        return ToBytes(ml, chain, null);
    }

    /// <summary>An empty data view with a single column <paramref name="imageBytesColumnName"/> of encoded images (<c>byte[]</c>): the input of a pipeline over image bytes (<see cref="TinaImageBytesInput"/>).</summary>
    public static IDataView EmptyBytesInput(MLContext mlContext, string imageBytesColumnName = TinaCatalog.Defaults.ImageBytesColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var definition = SchemaDefinition.Create(typeof(TinaImageBytesInput));
        definition[0].ColumnName = imageBytesColumnName;
        return mlContext.Data.LoadFromEnumerable(Array.Empty<TinaImageBytesInput>(), definition);
    }

    /// <summary>
    /// Saves <paramref name="model"/> atomically as an ML.NET zip at <paramref name="path"/>, with
    /// <paramref name="inputSchema"/> (default: one text column <see cref="TinaCatalog.Defaults.ImagePathColumnName"/>,
    /// the input of <see cref="EmptyInput"/>; pass <c>EmptyImageInput(ml).Schema</c> for a pipeline over in-memory images).
    /// ML.NET cannot save an image-typed column in an input schema ("No valid columns to save"), so a pipeline over
    /// in-memory images is saved without one: it loads with a null input schema, and the input class used for
    /// predicting (<see cref="TinaInMemoryImageInput"/>) supplies the column.
    /// </summary>
    public static void Save(MLContext mlContext, ITransformer model, string path, DataViewSchema? inputSchema = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        var schema = inputSchema ?? EmptyInput(mlContext).Schema;
        if (schema.Any(c => c.Type is Microsoft.ML.Transforms.Image.ImageDataViewType)) schema = null;
        var bytes = ToBytes(mlContext, model, schema);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// The ML.NET zip of <paramref name="model"/> as bytes, with fixed entry times: ML.NET stamps every zip entry with
    /// the current time, so the entries are rewritten in the same order with a fixed time (2000-01-01). The bytes can
    /// still differ between two saves of the same model: ML.NET compresses the blocks of its binary tables (the label
    /// lookup) in parallel and writes them in completion order (measured). The embedded ONNX model
    /// (<see cref="ReadEmbeddedModel"/>) is what identifies the classifier.
    /// </summary>
    public static byte[] ToBytes(MLContext mlContext, ITransformer model, DataViewSchema? inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        using var saved = new MemoryStream();
        mlContext.Model.Save(model, inputSchema, saved);
        saved.Position = 0;
        var stamp = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var result = new MemoryStream();
        using (var source = new ZipArchive(saved, ZipArchiveMode.Read))
        using (var target = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var entry in source.Entries)
            {
                var copy = target.CreateEntry(entry.FullName, CompressionLevel.Optimal);
                copy.LastWriteTime = stamp;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        return result.ToArray();
    }

    /// <summary>
    /// Loads an ML.NET zip saved by <see cref="Save"/> (or by <c>mlContext.Model.Save</c>). Registers this assembly with
    /// <paramref name="mlContext"/> first (<see cref="RegisterWith"/>), so that a chain over encoded bytes loads.
    /// </summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not an ML.NET model.</exception>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        RegisterWith(mlContext);
        if (!File.Exists(path))
            throw new TinaFileNotFoundException(path, "Expected an ML.NET model (.zip) saved from a Tina classifier pipeline.");
        try
        {
            using var stream = File.OpenRead(path);
            return mlContext.Model.Load(stream, out inputSchema);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException or IOException or ArgumentException or NotSupportedException)
        {
            throw new CorruptFileException(path, $"not a loadable ML.NET model ({e.Message})", e);
        }
    }

    /// <summary>
    /// Lets <paramref name="mlContext"/> load Tina chains that decode encoded image bytes (their step
    /// <see cref="TinaImageDecodingFactory"/> is a custom mapping, which ML.NET finds only in registered assemblies):
    /// call it before <c>mlContext.Model.Load</c>, or load with <see cref="Load"/>, which does. Calling it again does nothing.
    /// </summary>
    public static void RegisterWith(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        mlContext.ComponentCatalog.RegisterAssembly(typeof(TinaImageDecodingFactory).Assembly);
    }

    /// <summary>
    /// The description of the Tina ONNX model embedded in an ML.NET zip (its labels, architecture, prompt), or null
    /// if the zip holds none.
    /// </summary>
    public static TinaOnnxModelInfo? ReadEmbeddedModelInfo(string zipPath) => ReadEmbeddedModel(zipPath)?.Info;

    /// <summary>
    /// The Tina ONNX model embedded in an ML.NET zip — its bytes and description — or null if the zip holds none.
    /// ML.NET stores the ONNX bytes, prefixed by their 4-byte length, in an entry of the ONNX transformer's folder;
    /// every entry is probed, so nothing depends on the exact folder name.
    /// </summary>
    public static (byte[] Onnx, TinaOnnxModelInfo Info)? ReadEmbeddedModel(string zipPath)
    {
        try
        {
            using var zip = ZipFile.OpenRead(zipPath);
            foreach (var entry in zip.Entries)
            {
                if (entry.Length < 8 || entry.Length > int.MaxValue) continue;
                using var ms = new MemoryStream((int)entry.Length);
                using (var s = entry.Open()) s.CopyTo(ms);
                var bytes = ms.GetBuffer().AsSpan(0, (int)ms.Length);
                int length = BitConverter.ToInt32(bytes);
                if (length != bytes.Length - 4) continue;
                try
                {
                    var onnx = bytes[4..].ToArray();
                    return (onnx, TinaOnnxModelReader.Describe(TinaOnnxModelReader.Parse(onnx, zipPath), zipPath));
                }
                catch (IOException e) when (e is ITinaError)
                {
                    // Not an ONNX model, or not a Tina one: keep looking.
                }
            }
        }
        catch (InvalidDataException)
        {
            return null;
        }
        return null;
    }
}
