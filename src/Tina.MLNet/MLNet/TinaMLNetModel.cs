using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.IO;
using Tina.MLNet.Export;

namespace Tina.MLNet.MLNet;

/// <summary>
/// A Tina classifier as a fitted ML.NET model: build it from ONNX bytes or a p-Model, save it as an ML.NET zip (with
/// the image-path input schema, so it loads with a fresh <see cref="MLContext"/>), load it back.
/// </summary>
public static class TinaMLNetModel
{
    /// <summary>Fits <see cref="TinaClassifierEstimator"/> (no data needed) and returns the transformer chain.</summary>
    public static TransformerChain<ITransformer> Build(MLContext mlContext, TinaClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var estimator = mlContext.Transforms.ApplyTinaClassifier(options);
        return estimator.Fit(EmptyInput(mlContext, options.ImagePathColumnName));
    }

    /// <summary>An empty data view with a single text column <paramref name="imagePathColumnName"/>: the input schema of the pipeline.</summary>
    public static IDataView EmptyInput(MLContext mlContext, string imagePathColumnName = TinaClassifierOptions.DefaultImagePathColumnName)
    {
        var definition = SchemaDefinition.Create(typeof(TinaImageInput));
        definition[0].ColumnName = imagePathColumnName;
        return mlContext.Data.LoadFromEnumerable(Array.Empty<TinaImageInput>(), definition);
    }

    /// <summary>
    /// Saves <paramref name="model"/> atomically as an ML.NET zip at <paramref name="path"/>, with an input schema of
    /// one text column <paramref name="imagePathColumnName"/> (ML.NET cannot save an image-typed input schema).
    /// </summary>
    public static void Save(MLContext mlContext, ITransformer model, string path,
        string imagePathColumnName = TinaClassifierOptions.DefaultImagePathColumnName)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(model);
        var schema = EmptyInput(mlContext, imagePathColumnName).Schema;
        AtomicFile.Write(path, s => mlContext.Model.Save(model, schema, s));
    }

    /// <summary>Loads an ML.NET zip saved by <see cref="Save"/> (or by <c>mlContext.Model.Save</c>).</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file is not an ML.NET model.</exception>
    public static ITransformer Load(MLContext mlContext, string path, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
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
    /// The description of the Tina ONNX model embedded in an ML.NET zip (its labels, architecture, prompt), or null
    /// if the zip holds none. ML.NET stores the ONNX bytes, prefixed by their 4-byte length, in an entry of the
    /// ONNX transformer's folder; every entry is probed, so nothing depends on the exact folder name.
    /// </summary>
    public static TinaOnnxModelInfo? ReadEmbeddedModelInfo(string zipPath)
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
                    var model = TinaOnnxModelReader.Parse(bytes[4..].ToArray(), zipPath);
                    return TinaOnnxModelReader.Describe(model, zipPath);
                }
                catch (TinaException)
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
