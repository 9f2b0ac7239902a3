using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;

namespace Tina.MLNet;

/// <summary>
/// Classifies images with a Tina model. <see cref="Fit"/> needs no training data: it returns a
/// <see cref="TransformerChain{TLastTransformer}"/> of ML.NET's own transformers, so the result saves and loads with
/// <c>mlContext.Model.Save/Load</c> (the ONNX model bytes are embedded in the zip):
/// [LoadImages, for a column of file paths] → ResizeImages to the model's input size (32×32, or 224×224 for resnet18) →
/// ExtractPixels (RGB planes, ×1/255, i.e. [0, 1]) → ApplyOnnxModel → MapValue (class index → label) → copies to the
/// requested output names → drops the intermediate columns. For a head alone (a few KB, <c>tina export --format head</c>)
/// the chain is the usual ML.NET transfer-learning one: ResizeImages 224×224 → ExtractPixels (0–255) → ML.NET's
/// ResNet-18 (the package's preprocessing and ResNet-18 models, as <c>DnnFeaturizeImage</c> runs them) → ApplyOnnxModel
/// (the head) → MapValue. The input column holds file paths (text), encoded image bytes (<c>byte[]</c>, decoded by
/// <see cref="TinaImageDecodingFactory"/> instead of LoadImages, with Tina's size limits) or in-memory <c>MLImage</c>s;
/// which one is read from the input schema. Output columns: <see cref="TinaClassifierOptions.PredictedLabelColumnName"/> (text vector of one element),
/// <see cref="TinaClassifierOptions.ScoreColumnName"/> (float vector of C), <see cref="TinaClassifierOptions.ClassIndexColumnName"/>
/// (int64 vector of one element) — they bind to <c>string[]</c>, <c>float[]</c> and <c>long[]</c> members of a
/// prediction class such as <see cref="TinaImagePrediction"/>, whose <see cref="TinaImagePrediction.Label"/> and
/// <see cref="TinaImagePrediction.Index"/> give the plain values.
/// </summary>
/// <remarks>
/// Custom transformer types cannot be saved by ML.NET outside its own repository (its save/load plumbing is
/// internal), hence an estimator that composes the built-in ones, in the style of ML.NET's ImageAnalytics and
/// OnnxTransformer extension packages. The ONNX outputs keep their batch dimension (ML.NET 5 cannot read a rank-0 ONNX
/// output), hence the one-element label and index vectors; the embedded model records the resize policy
/// (<see cref="TinaOnnxSchema.ResizeKey"/>). Create it with <c>mlContext.Transforms.ApplyTinaClassifier(options)</c>.
/// </remarks>
public sealed class TinaClassifierEstimator : IEstimator<TransformerChain<ITransformer>>
{
    private const string LoadedImageColumn = "Tina.LoadedImage";
    private const string ResizedImageColumn = "Tina.ResizedImage";

    // The input and output names of the package's two ONNX models (ResNetPreprocess.onnx, ResNet18.onnx).
    private const string PrepInput = "OriginalInput", PrepOutput = "PreprocessedInput", BackboneInput = "Input247", BackboneOutput = "Pooling395_Output_0";

    private readonly TransformsCatalog _catalog;
    private readonly TinaClassifierOptions _options;
    private readonly byte[] _embedded;

    /// <summary>Creates the estimator; prefer the catalog extension <c>ApplyTinaClassifier</c>.</summary>
    /// <exception cref="ArgumentException">The options are inconsistent (no model, clashing column names).</exception>
    /// <exception cref="InvalidModelException">The ONNX bytes are not a Tina classifier.</exception>
    /// <exception cref="CorruptFileException">The bytes are not an ONNX model.</exception>
    public TinaClassifierEstimator(TransformsCatalog catalog, TinaClassifierOptions options)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(options);
        if (options.OnnxModel is null)
            throw new ArgumentException($"Set {nameof(TinaClassifierOptions.OnnxModel)} to the bytes of a Tina ONNX classifier.", nameof(options));
        CheckColumnNames(options);
        _catalog = catalog;
        _options = options;
        const string source = "the ONNX model given to the Tina classifier";
        var proto = TinaOnnxModelReader.Parse(options.OnnxModel, source);
        ModelInfo = TinaOnnxModelReader.Describe(proto, source);
        _embedded = OnnxResizePolicy.WithMode(proto, options.OnnxModel, OnnxResizePolicy.ModeName(options.Resizing), ModelInfo.ImageSize);
        if (ModelInfo.HeadOnly)
        {
            var backbone = ResNet18Backbone.Load(options.BackboneDirectory);
            if (backbone.Identity != ModelInfo.Backbone)
                throw new TinaException($"{source} is a head trained on the ResNet-18 file {ModelInfo.Backbone}, but {backbone.ModelPath} is {backbone.Identity}; use the package version the head was made with.");
            _backboneDirectory = Path.GetDirectoryName(Path.GetDirectoryName(backbone.ModelPath))!;
        }
    }

    private readonly string? _backboneDirectory;

    /// <summary>The labels, architecture and prompt of the model applied.</summary>
    public TinaOnnxModelInfo ModelInfo { get; }

    /// <summary>Builds the chain of transformers; <paramref name="input"/> only needs the image column (it may be empty).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither text, bytes nor an image.</exception>
    public TransformerChain<ITransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var col = input.Schema.GetColumnOrNull(_options.InputColumnName);
        var kind = CheckInputColumn(_options.InputColumnName, col is null ? null : (col.Value.Type is VectorDataViewType v ? v.ItemType : col.Value.Type, col.Value.Type is not VectorDataViewType));
        var modelFile = TinaTempFiles.Write(_embedded);
        try
        {
            var chain = BuildChain(kind, modelFile).Fit(input);
            FittedModelFile = modelFile;
            return chain;
        }
        catch
        {
            TinaTempFiles.Delete(modelFile);
            throw;
        }
    }

    /// <summary>
    /// The file the last <see cref="Fit"/> gave ML.NET's ONNX transformer (see <see cref="TinaTempFiles"/>): it must
    /// exist while the fitted chain may run or be saved; deleted by its owner or when the process exits.
    /// </summary>
    internal string? FittedModelFile { get; private set; }

    /// <summary>
    /// The schema after the transformers: the input columns plus the label, score and class-index columns, less the
    /// input columns the chain replaces or uses internally. Computed from the options and the model's class count
    /// (<see cref="GetOutputSchema(SchemaShape, TinaClassifierOptions, int, ClassifierFormat)"/>), without opening the model.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither text, bytes nor an image.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        GetOutputSchema(inputSchema, _options, ModelInfo.Labels.Count, ModelInfo.HeadOnly ? ClassifierFormat.Head : ClassifierFormat.OneFile);

    /// <summary>
    /// The schema after the transformers of a Tina classifier of <paramref name="classCount"/> classes in
    /// <paramref name="format"/>, as the fitted chain gives it, computed from the column names of
    /// <paramref name="columns"/> alone (its <see cref="TinaClassifierOptions.OnnxModel"/> is not read, and may be
    /// null): the input columns, less those the chain replaces or uses internally, plus
    /// <see cref="TinaClassifierOptions.PredictedLabelColumnName"/> (a text vector of unknown length),
    /// <see cref="TinaClassifierOptions.ScoreColumnName"/> (a vector of <paramref name="classCount"/> floats) and
    /// <see cref="TinaClassifierOptions.ClassIndexColumnName"/> (an int64 vector of one element). For estimators
    /// that know the class list before they have a model, such as the generating one.
    /// </summary>
    /// <param name="inputSchema">The shape of the input; it must hold the image column.</param>
    /// <param name="columns">The column names (and nothing else) of the options the chain would be built with.</param>
    /// <param name="classCount">How many classes the model has (1 or more).</param>
    /// <param name="format">Whether the model is one file or a head run after ML.NET's ResNet-18 (it uses more intermediate columns).</param>
    /// <exception cref="ArgumentOutOfRangeException">The image column is missing or is neither text, bytes nor an image; or <paramref name="classCount"/> is under 1.</exception>
    /// <exception cref="ArgumentException">The column names are empty, repeated or reserved.</exception>
    public static SchemaShape GetOutputSchema(SchemaShape inputSchema, TinaClassifierOptions columns, int classCount, ClassifierFormat format = ClassifierFormat.OneFile)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        CheckColumnNames(columns);
        var matches = inputSchema.Where(c => c.Name == columns.InputColumnName).ToList();
        var kind = CheckInputColumn(columns.InputColumnName, matches.Count == 0 ? null
            : (matches[^1].ItemType, matches[^1].Kind == SchemaShape.Column.VectorKind.Scalar));
        // The columns the chain adds, with the types ML.NET's transformers give them: MapValue's label vector of
        // undeclared length, the ONNX outputs with their batch dimension dropped. None carries annotations.
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(columns.PredictedLabelColumnName, new VectorDataViewType(TextDataViewType.Instance));
        builder.AddColumn(columns.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, classCount));
        builder.AddColumn(columns.ClassIndexColumnName, new VectorDataViewType(NumberDataViewType.Int64, 1));
        var added = SchemaShapes.Of(builder.ToSchema());
        var gone = Intermediate(kind, format == ClassifierFormat.Head, columns).Concat(added.Select(c => c.Name)).ToHashSet(StringComparer.Ordinal);
        return new SchemaShape(inputSchema.Where(c => !gone.Contains(c.Name)).Concat(added));
    }

    /// <summary>
    /// The intermediate columns the chain writes and drops at its end (an input column of one of these names is
    /// dropped too): the loaded or decoded and the resized image, the ONNX input (or the backbone's columns for a head),
    /// and the ONNX outputs when the options name the outputs otherwise.
    /// </summary>
    private static List<string> Intermediate(InputKind inputKind, bool headOnly, TinaClassifierOptions o)
    {
        var drop = new List<string> { ResizedImageColumn };
        if (inputKind == InputKind.Path) drop.Add(LoadedImageColumn);
        else if (inputKind == InputKind.Bytes) drop.AddRange([TinaImageDecodingFactory.InputColumnName, TinaImageDecodingFactory.OutputColumnName]);
        if (headOnly) drop.AddRange([PrepInput, PrepOutput, BackboneInput, BackboneOutput, TinaOnnxSchema.FeaturesInputName]);
        else drop.Add(TinaOnnxSchema.InputName);
        if (o.ScoreColumnName != TinaOnnxSchema.ScoresName) drop.Add(TinaOnnxSchema.ScoresName);
        if (o.ClassIndexColumnName != TinaOnnxSchema.ClassIndexName) drop.Add(TinaOnnxSchema.ClassIndexName);
        return drop;
    }

    /// <summary>
    /// The chain of built-in estimators; built afresh each time so every fitted chain owns its ONNX session. The Tina
    /// model is given as the file <paramref name="modelFile"/> (its bytes are embedded in a saved zip all the same):
    /// from a stream, ML.NET 6 would write a temporary copy that it never deletes.
    /// </summary>
    private EstimatorChain<ITransformer> BuildChain(InputKind inputKind, string modelFile)
    {
        var o = _options;
        var labels = ModelInfo.Labels.Select((label, i) => new KeyValuePair<long, string>(i, label)).ToArray();
        int size = ModelInfo.ImageSize;
        var chain = new EstimatorChain<ITransformer>();
        string image = o.InputColumnName;
        if (inputKind == InputKind.Path)
        {
            chain = chain.Append<ITransformer>(_catalog.LoadImages(LoadedImageColumn, o.ImageFolder, o.InputColumnName));
            image = LoadedImageColumn;
        }
        else if (inputKind == InputKind.Bytes)
        {
            // Encoded bytes: decoded by Tina (size limits before decoding) in a savable custom mapping whose columns
            // are fixed by its factory, so the input is copied to the name the factory reads.
            chain = chain
                .Append<ITransformer>(_catalog.CopyColumns(TinaImageDecodingFactory.InputColumnName, o.InputColumnName))
                .Append<ITransformer>(_catalog.CustomMapping<TinaEncodedImageRow, TinaDecodedImageRow>(TinaImageDecodingFactory.Decode, TinaImageDecodingFactory.ContractName));
            image = TinaImageDecodingFactory.OutputColumnName;
        }
        chain = chain.Append<ITransformer>(_catalog.ResizeImages(ResizedImageColumn, size, size, image, o.Resizing));
        if (_backboneDirectory is { } models)
        {
            // A head alone: ML.NET's ResNet-18 first, as DnnFeaturizeImage(ModelSelector.ResNet18) builds it — the
            // package's preprocessing model, then its ResNet-18, on pixel values 0–255 — but through this catalog, so
            // the caller's context (its ONNX Runtime device settings) runs the backbone too. (DnnFeaturizeImage's model
            // factory needs an IHostEnvironment, which a TransformsCatalog does not expose.)
            chain = chain
                .Append<ITransformer>(_catalog.ExtractPixels(PrepInput, ResizedImageColumn,
                    ImagePixelExtractingEstimator.ColorBits.Rgb, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                    interleavePixelColors: false, offsetImage: 0f, scaleImage: 1f, outputAsFloatArray: true))
                .Append<ITransformer>(_catalog.ApplyOnnxModel(PrepOutput, PrepInput, Path.Combine(models, "ResNetPrepOnnx", "ResNetPreprocess.onnx")))
                .Append<ITransformer>(_catalog.CopyColumns(BackboneInput, PrepOutput))
                .Append<ITransformer>(_catalog.ApplyOnnxModel(BackboneOutput, BackboneInput, Path.Combine(models, "ResNet18Onnx", "ResNet18.onnx")))
                .Append<ITransformer>(_catalog.CopyColumns(TinaOnnxSchema.FeaturesInputName, BackboneOutput))
                .Append<ITransformer>(_catalog.ApplyOnnxModel([TinaOnnxSchema.ScoresName, TinaOnnxSchema.ClassIndexName],
                    [TinaOnnxSchema.FeaturesInputName], modelFile));
        }
        else
        {
            chain = chain
                // ML.NET computes (pixel − offset) · scale per colour; ARGB order without alpha gives R, G, B planes.
                .Append<ITransformer>(_catalog.ExtractPixels(TinaOnnxSchema.InputName, ResizedImageColumn,
                    ImagePixelExtractingEstimator.ColorBits.Rgb, ImagePixelExtractingEstimator.ColorsOrder.ARGB,
                    interleavePixelColors: false, offsetImage: 0f, scaleImage: 1f / 255f, outputAsFloatArray: true))
                .Append<ITransformer>(_catalog.ApplyOnnxModel([TinaOnnxSchema.ScoresName, TinaOnnxSchema.ClassIndexName],
                    [TinaOnnxSchema.InputName], modelFile));
        }
        chain = chain.Append<ITransformer>(_catalog.Conversion.MapValue(o.PredictedLabelColumnName, labels, TinaOnnxSchema.ClassIndexName));
        if (o.ScoreColumnName != TinaOnnxSchema.ScoresName)
        {
            chain = chain.Append<ITransformer>(_catalog.CopyColumns(o.ScoreColumnName, TinaOnnxSchema.ScoresName));
        }
        if (o.ClassIndexColumnName != TinaOnnxSchema.ClassIndexName)
        {
            chain = chain.Append<ITransformer>(_catalog.CopyColumns(o.ClassIndexColumnName, TinaOnnxSchema.ClassIndexName));
        }
        return chain.Append<ITransformer>(_catalog.DropColumns([.. Intermediate(inputKind, _backboneDirectory is not null, o)]));
    }

    /// <summary>What the input column holds.</summary>
    private enum InputKind
    {
        Path,
        Image,
        Bytes,
    }

    /// <summary>
    /// Throws unless the image column was found (<paramref name="found"/>: its item type, and whether it is a scalar)
    /// and is a scalar text or image column or a vector of bytes; returns which.
    /// </summary>
    private static InputKind CheckInputColumn(string name, (DataViewType ItemType, bool IsScalar)? found)
    {
        if (found is null)
            throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{name}': column not found (expected image file paths, of type String; encoded images, of type Vector<Byte> (byte[]); or in-memory images, of type Image).");
        var (type, scalar) = found.Value;
        if (scalar && type is ImageDataViewType) return InputKind.Image;
        if (scalar && type is TextDataViewType) return InputKind.Path;
        if (!scalar && type == NumberDataViewType.Byte) return InputKind.Bytes;
        throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for input column '{name}': expected String (file paths), Vector<Byte> (encoded PNG/JPEG/… bytes, byte[]) or Image (MLImage), got {(scalar ? type.ToString() : $"Vector<{type}>")}.");
    }

    private static void CheckColumnNames(TinaClassifierOptions o)
    {
        var names = new[] { o.InputColumnName, o.PredictedLabelColumnName, o.ScoreColumnName, o.ClassIndexColumnName };
        if (names.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("Column names of the Tina classifier must not be empty.");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new ArgumentException($"The input, predicted-label, score and class-index columns need distinct names; got {string.Join(", ", names)}.");
        var reserved = new[] { LoadedImageColumn, ResizedImageColumn, TinaOnnxSchema.InputName, TinaOnnxSchema.FeaturesInputName, PrepInput, PrepOutput, BackboneInput, BackboneOutput,
            TinaImageDecodingFactory.InputColumnName, TinaImageDecodingFactory.OutputColumnName };
        foreach (var n in names)
            if (reserved.Contains(n, StringComparer.Ordinal))
                throw new ArgumentException($"Column name '{n}' is used internally by the Tina classifier (for the ONNX input or intermediate images); choose another.");
        if (o.InputColumnName is TinaOnnxSchema.ScoresName or TinaOnnxSchema.ClassIndexName
            || o.PredictedLabelColumnName is TinaOnnxSchema.ScoresName or TinaOnnxSchema.ClassIndexName
            || o.ScoreColumnName == TinaOnnxSchema.ClassIndexName || o.ClassIndexColumnName == TinaOnnxSchema.ScoresName)
            throw new ArgumentException($"'{TinaOnnxSchema.ScoresName}' and '{TinaOnnxSchema.ClassIndexName}' are the ONNX outputs; use them only as the score and class-index column names.");
    }
}
