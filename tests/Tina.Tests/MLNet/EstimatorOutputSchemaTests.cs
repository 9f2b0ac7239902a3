using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Export;
using Tina.PModels;

namespace Tina.Tests.MLNet;

/// <summary>
/// <see cref="IEstimator{TTransformer}.GetOutputSchema"/> of the Tina estimators, computed without the fitted chain
/// (for <see cref="TinaGenerateEstimator"/> without a generator or any model), is the shape of the fitted chain's output:
/// the same columns, each with the same kind, item type, key flag and annotation names.
/// </summary>
public class EstimatorOutputSchemaTests
{
    public static TheoryData<string> Inputs => ["path", "image", "bytes"];

    [Theory]
    [MemberData(nameof(Inputs))]
    public void TheEstimatorsSchemaIsTheFittedChainsForEveryInputKind(string inputKind)
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 0);
        var input = Input(ml, inputKind);
        var column = input.Schema[0].Name;
        var options = new TinaClassifierOptions { OnnxModel = f.Onnx, InputColumnName = column };
        var estimator = new TinaClassifierEstimator(ml.Transforms, options);
        using var fitted = estimator.Fit(input);
        var expected = fitted.GetOutputSchema(input.Schema);
        var inputShape = SchemaShapes.Of(input.Schema);

        AssertSameShape(expected, estimator.GetOutputSchema(inputShape));
        AssertSameShape(expected, TinaClassifierEstimator.GetOutputSchema(inputShape, options, f.Model.Labels.Count));
        // The generating estimator: no generator is loaded and no model is made for the schema.
        var generate = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "not loaded", Classes = [.. f.Model.Labels], InputColumnName = column });
        AssertSameShape(expected, generate.GetOutputSchema(inputShape));
    }

    [Fact]
    public void OutputNamesOtherThanTheOnnxOnesAndInputColumnsOfTheSameNamesGiveTheFittedShape()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 0);
        // The input has columns named as the outputs (replaced) and as an intermediate column (dropped by the chain).
        var input = ml.Data.LoadFromEnumerable(Array.Empty<Crowded>());
        var options = new TinaClassifierOptions
        {
            OnnxModel = f.Onnx, InputColumnName = nameof(Crowded.File), PredictedLabelColumnName = nameof(Crowded.Label),
            ScoreColumnName = "Scores", ClassIndexColumnName = nameof(Crowded.Index),
        };
        var estimator = new TinaClassifierEstimator(ml.Transforms, options);
        using var fitted = estimator.Fit(input);
        var expected = fitted.GetOutputSchema(input.Schema);
        Assert.Null(expected.GetColumnOrNull("image"));
        Assert.NotNull(expected.GetColumnOrNull(nameof(Crowded.Other)));
        var inputShape = SchemaShapes.Of(input.Schema);
        AssertSameShape(expected, estimator.GetOutputSchema(inputShape));
        AssertSameShape(expected, TinaClassifierEstimator.GetOutputSchema(inputShape, options, f.Model.Labels.Count));
    }

    [Fact]
    public void AHeadsChainKeepsAndDropsItsOwnIntermediateColumnsAndTheSchemaFollows()
    {
        var f = ResNet18Fixture.Instance;
        var head = OnnxExporter.ExportHead(new PModelEnsemble([f.Model]), f.Task.Prompt, "classifier-selection");
        var ml = new MLContext(seed: 0);
        // Input columns named as intermediate columns: the head's chain drops 'features' (the backbone's output) and
        // keeps 'image' (the one-file chain's ONNX input), the one-file chain the other way round.
        var input = ml.Data.LoadFromEnumerable(Array.Empty<HeadInput>());
        var options = new TinaClassifierOptions { OnnxModel = head, InputColumnName = nameof(HeadInput.ImagePath) };
        var estimator = new TinaClassifierEstimator(ml.Transforms, options);
        using var fitted = estimator.Fit(input);
        var expected = fitted.GetOutputSchema(input.Schema);
        Assert.Null(expected.GetColumnOrNull("features"));
        Assert.NotNull(expected.GetColumnOrNull("image"));
        var inputShape = SchemaShapes.Of(input.Schema);
        int classes = f.Model.Labels.Count;
        AssertSameShape(expected, estimator.GetOutputSchema(inputShape));
        AssertSameShape(expected, TinaClassifierEstimator.GetOutputSchema(inputShape, options, classes, ClassifierFormat.Head));
        var oneFile = TinaClassifierEstimator.GetOutputSchema(inputShape, options, classes);
        Assert.Contains(oneFile, c => c.Name == "features");
        Assert.DoesNotContain(oneFile, c => c.Name == "image");
        var generate = ml.Transforms.TinaGenerate(new TinaGenerateOptions
        {
            GeneratorPath = "not loaded", Classes = [.. f.Model.Labels], InputColumnName = nameof(HeadInput.ImagePath), Format = ClassifierFormat.Head,
        });
        AssertSameShape(expected, generate.GetOutputSchema(inputShape));
    }

    [Fact]
    public void AMissingOrWrongImageColumnIsRefusedAsByTheFittedChain()
    {
        var ml = new MLContext(seed: 0);
        var shape = SchemaShapes.Of(ml.Data.LoadFromEnumerable(Array.Empty<Crowded>()).Schema);
        var missing = new TinaClassifierOptions { InputColumnName = "Nowhere" };
        Assert.Contains("column not found", Assert.Throws<ArgumentOutOfRangeException>(() => TinaClassifierEstimator.GetOutputSchema(shape, missing, 3)).Message);
        var floats = new TinaClassifierOptions { InputColumnName = nameof(Crowded.Other) };
        Assert.Contains("got Single", Assert.Throws<ArgumentOutOfRangeException>(() => TinaClassifierEstimator.GetOutputSchema(shape, floats, 3)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => TinaClassifierEstimator.GetOutputSchema(shape, new TinaClassifierOptions { InputColumnName = nameof(Crowded.File) }, 0));
    }

    private static IDataView Input(MLContext ml, string kind) => kind switch
    {
        "path" => TinaMLNetModel.EmptyInput(ml),
        "image" => TinaMLNetModel.EmptyImageInput(ml),
        "bytes" => TinaMLNetModel.EmptyBytesInput(ml),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// The visible columns of <paramref name="fitted"/> as a shape describes them (kind: scalar, vector of known or of
    /// unknown length; item type, a key's as its raw type; key flag; annotation names), read here from the schema so
    /// the comparison does not go through the code under test.
    /// </summary>
    private static Dictionary<string, string> Columns(DataViewSchema fitted) => fitted.Where(c => !c.IsHidden).ToDictionary(c => c.Name, c =>
    {
        var (kind, item) = c.Type is VectorDataViewType v
            ? (v.IsKnownSize ? SchemaShape.Column.VectorKind.Vector : SchemaShape.Column.VectorKind.VariableVector, v.ItemType)
            : (SchemaShape.Column.VectorKind.Scalar, c.Type);
        var key = item is KeyDataViewType;
        return Describe(kind, key ? ColumnTypeOf(item.RawType) : item, key, c.Annotations.Schema.Select(a => a.Name));
    });

    private static Dictionary<string, string> Columns(SchemaShape shape) =>
        shape.ToDictionary(c => c.Name, c => Describe(c.Kind, c.ItemType, c.IsKey, c.Annotations.Select(a => a.Name)));

    private static string Describe(SchemaShape.Column.VectorKind kind, DataViewType item, bool key, IEnumerable<string> annotations) =>
        $"{kind} {item}{(key ? " key" : "")} [{string.Join(", ", annotations.Order(StringComparer.Ordinal))}]";

    private static DataViewType ColumnTypeOf(Type raw) =>
        raw == typeof(uint) ? NumberDataViewType.UInt32 : raw == typeof(ulong) ? NumberDataViewType.UInt64
        : raw == typeof(ushort) ? NumberDataViewType.UInt16 : NumberDataViewType.Byte;

    /// <summary>Same column names (ML.NET's order is not compared), and per name the same kind, item type, key flag and annotation names.</summary>
    private static void AssertSameShape(DataViewSchema fitted, SchemaShape actual)
    {
        var expected = Columns(fitted);
        var got = Columns(actual);
        Assert.Equal(actual.Count, got.Count);   // no name twice
        string Text(Dictionary<string, string> d) => string.Join("\n", d.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"  {p.Key}: {p.Value}"));
        Assert.True(expected.Count == got.Count && expected.All(p => got.TryGetValue(p.Key, out var g) && g == p.Value),
            $"fitted chain:\n{Text(expected)}\nestimator:\n{Text(got)}");
    }

    private sealed class HeadInput
    {
        public string ImagePath { get; set; } = "";
        [ColumnName("features")]
        public float Features { get; set; }
        [ColumnName("image")]
        public float Image { get; set; }
    }

    private sealed class Crowded
    {
        public string File { get; set; } = "";
        public float Other { get; set; }
        public float Label { get; set; }
        public string Index { get; set; } = "";
        [ColumnName("image")]
        public float Intermediate { get; set; }
    }
}
