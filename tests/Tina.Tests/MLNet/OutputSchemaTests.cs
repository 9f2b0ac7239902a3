using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;

namespace Tina.Tests.MLNet;

/// <summary>
/// The output columns of a fitted Tina chain and the members of <see cref="TinaImagePrediction"/> that the options'
/// docs point to are one source of truth: every output column has the element type and length of the member bound to it.
/// </summary>
public class OutputSchemaTests
{
    [Fact]
    public void EveryOutputColumnHasTheTypeOfThePredictionMemberBoundToIt()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 0);
        var model = TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = f.Onnx });
        var schema = model.GetOutputSchema(TinaMLNetModel.EmptyInput(ml).Schema);
        var members = SchemaDefinition.Create(typeof(TinaImagePrediction), SchemaDefinition.Direction.Write)
            .Select(c => (Property: typeof(TinaImagePrediction).GetProperty(c.MemberName)!, Column: c.ColumnName)).ToList();
        Assert.Equal(3, members.Count);
        foreach (var (property, column) in members)
        {
            var type = schema[column].Type;
            var vector = Assert.IsType<VectorDataViewType>(type);
            var element = property.PropertyType.GetElementType()!;
            Assert.True(property.PropertyType.IsArray, $"{property.Name} must be an array: the column is {type}");
            Assert.Equal(element, vector.ItemType.RawType == typeof(ReadOnlyMemory<char>) ? typeof(string) : vector.ItemType.RawType);
            // Sizes as the docs state them: C scores, one class index, and a label vector of unknown length (MapValue's output) holding one label.
            int expected = column == TinaCatalog.Defaults.ScoreColumnName ? f.Model.Labels.Count : column == TinaCatalog.Defaults.ClassIndexColumnName ? 1 : 0;
            Assert.Equal(expected, vector.Size);
        }
        // And they bind: one prediction through a PredictionEngine fills every member.
        using var engine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(model);
        var p = engine.Predict(new TinaImageInput { ImagePath = Path.Combine(f.ImageDir, f.FileNames[0]) });
        Assert.Single(p.PredictedLabel);
        Assert.Single(p.ClassIndex);
        Assert.Equal(f.Model.Labels.Count, p.Score.Length);
    }

    [Fact]
    public void BindingAScalarStringToThePredictedLabelFailsAsTheDocsSay()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 0);
        var model = TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = f.Onnx });
        var e = Assert.ThrowsAny<Exception>(() => ml.Model.CreatePredictionEngine<TinaImageInput, ScalarLabel>(model));
        Assert.Contains("Vector<String", e.Message);
    }

    private sealed class ScalarLabel
    {
        public string PredictedLabel { get; set; } = "";
    }
}
