using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Tina.MLNet;
using Xunit.Abstractions;
using Tina.MLNet.Generation.Export;
using static Tina.Tests.Export.OnnxTestSupport;

namespace Tina.Tests.MLNet;

public class TinaClassifierPipelineTests(ITestOutputHelper output)
{
    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    [Fact]
    public void SavedZipReloadsInAFreshContextAndMatchesOnnxRuntime()
    {
        var f = ThreeClassFixture.Instance;
        int classes = f.Model.Labels.Count;
        var work = TestData.TempDir();
        var onnxPath = Path.Combine(work, "model.onnx");
        File.WriteAllBytes(onnxPath, f.Onnx);

        // Reference: ONNX Runtime on the raw pixels.
        float[] ortScores;
        long[] ortIndex;
        using (var session = new InferenceSession(f.Onnx))
            (ortScores, ortIndex) = RunOnnx(session, f.Pixels, f.Count);
        double ortAccuracy = Accuracy(ortIndex.Select(i => (int)i).ToArray(), f.TrueLabels);

        // The pipeline over PNG files, relative to an image folder, with the ONNX file given by path.
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.ApplyTinaClassifier(onnxPath, imageFolder: f.ImageDir);
        Assert.Equal(f.Model.Labels, estimator.ModelInfo.Labels);
        var rows = ml.Data.LoadFromEnumerable(f.FileNames.Select(n => new PathRow { ImagePath = n }));
        var model = estimator.Fit(rows);
        var viaPipeline = ml.Data.CreateEnumerable<TinaImagePrediction>(model.Transform(rows), reuseRowObject: false).ToList();
        Assert.Equal(f.Count, viaPipeline.Count);
        double maxDiff = 0;
        for (int i = 0; i < f.Count; i++)
        {
            Assert.Equal(ortIndex[i], Assert.Single(viaPipeline[i].ClassIndex));
            Assert.Equal(f.Model.Labels[(int)ortIndex[i]], Assert.Single(viaPipeline[i].PredictedLabel));
            Assert.Equal((int)ortIndex[i], viaPipeline[i].Index);
            Assert.Equal(viaPipeline[i].PredictedLabel[0], viaPipeline[i].Label);
            for (int k = 0; k < classes; k++) maxDiff = Math.Max(maxDiff, Math.Abs(viaPipeline[i].Score[k] - ortScores[i * classes + k]));
        }
        Assert.True(maxDiff <= 1e-5, $"ML.NET pipeline scores differ from ONNX Runtime on the same pixels by {maxDiff:E2}");

        // Save with the string image-path input schema, delete the ONNX file, reload in a fresh context.
        var zipPath = Path.Combine(work, "model.zip");
        ml.Model.Save(model, rows.Schema, zipPath);
        File.Delete(onnxPath);

        var ml2 = new MLContext(seed: 2);
        var loaded = ml2.Model.Load(zipPath, out var inputSchema);
        Assert.IsType<TextDataViewType>(inputSchema["ImagePath"].Type);
        using var engine = ml2.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
        var predicted = new int[f.Count];
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < f.Count; i++)
        {
            var p = engine.Predict(new TinaImageInput { ImagePath = f.FileNames[i] });
            var label = Assert.Single(p.PredictedLabel);
            predicted[i] = f.Model.Labels.ToList().IndexOf(label);
            Assert.Equal((int)ortIndex[i], predicted[i]);
            Assert.Equal(classes, p.Score.Length);
            Assert.Equal(1f, p.Score.Sum(), 1e-5f);
            for (int k = 0; k < classes; k++) Assert.Equal(ortScores[i * classes + k], p.Score[k], 1e-5f);
        }
        var perImage = sw.Elapsed.TotalMilliseconds * 1000 / f.Count;
        double zipAccuracy = Accuracy(predicted, f.TrueLabels);
        Assert.Equal(ortAccuracy, zipAccuracy);
        Assert.True(zipAccuracy > 0.5, $"3-class accuracy {zipAccuracy:P1} is not above chance; the fixture did not train");
        output.WriteLine(f.Timings);
        output.WriteLine($"accuracy ORT {ortAccuracy:P1} = reloaded zip {zipAccuracy:P1} on {f.Count} PNGs; " +
            $"max score diff ML.NET vs ORT {maxDiff:E2}; PredictionEngine (PNG path) {perImage:F0} µs/image; zip {new FileInfo(zipPath).Length:N0} bytes");
    }

    [Fact]
    public void OutputSchemaHasTheDocumentedColumns()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx });
        var input = TinaMLNetModel.EmptyInput(ml);
        var shape = estimator.GetOutputSchema(Shape(input.Schema));
        var byName = shape.ToDictionary(c => c.Name);
        // As the fitted chain gives it: MapValue's text vector of undeclared length (EstimatorOutputSchemaTests).
        Assert.Equal(SchemaShape.Column.VectorKind.VariableVector, byName["PredictedLabel"].Kind);
        Assert.IsType<TextDataViewType>(byName["PredictedLabel"].ItemType);
        Assert.Equal(NumberDataViewType.Single, byName["Score"].ItemType);
        Assert.Equal(NumberDataViewType.Int64, byName["ClassIndex"].ItemType);
        Assert.Contains("ImagePath", byName.Keys);
        Assert.DoesNotContain("image", byName.Keys);
        Assert.DoesNotContain("scores", byName.Keys);

        var schema = estimator.Fit(input).GetOutputSchema(input.Schema);
        Assert.Equal(3, ((VectorDataViewType)schema["Score"].Type).Size);
        // MapValue over the one-element class-index vector gives a text vector of unknown size (one element at run time).
        Assert.IsType<TextDataViewType>(((VectorDataViewType)schema["PredictedLabel"].Type).ItemType);

        var noPath = ml.Data.LoadFromEnumerable(new[] { new { Other = "x" } }.Select(o => new PathlessRow { Other = o.Other }));
        Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shape(noPath.Schema)));
        Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(noPath));
    }

    private sealed class PathlessRow
    {
        public string Other { get; set; } = "";
    }

    [Fact]
    public void InMemoryExportAndCustomColumnNamesWork()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 1);
        var options = new TinaClassifierOptions
        {
            OnnxModel = Tina.MLNet.Generation.Export.OnnxExporter.Export(f.Model, "three things", "classifier-selection"),
            InputColumnName = "File", ImageFolder = f.ImageDir,
            PredictedLabelColumnName = "Label", ScoreColumnName = "scores", ClassIndexColumnName = "Index",
        };
        var estimator = ml.Transforms.ApplyTinaClassifier(options);
        Assert.Equal("three things", estimator.ModelInfo.Prompt);
        Assert.Equal("classifier-selection", estimator.ModelInfo.Method);
        var rows = ml.Data.LoadFromEnumerable(f.FileNames.Take(5).Select(n => new FileRow { File = n }));
        var transformed = estimator.Fit(rows).Transform(rows);
        var labels = transformed.GetColumn<VBuffer<ReadOnlyMemory<char>>>("Label").Select(v => v.DenseValues().Single().ToString()).ToList();
        var index = transformed.GetColumn<VBuffer<long>>("Index").Select(v => v.DenseValues().Single()).ToList();
        var scores = transformed.GetColumn<VBuffer<float>>("scores").Select(v => v.DenseValues().ToArray()).ToList();
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(f.Model.Labels[(int)index[i]], labels[i]);
            Assert.Equal(scores[i].Max(), scores[i][index[i]]);
        }

        Assert.Throws<ArgumentException>(() => ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions()));
        Assert.Throws<ArgumentException>(() => ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx, InputColumnName = "image" }));
        Assert.Throws<ArgumentException>(() => ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx, ScoreColumnName = "PredictedLabel" }));
    }

    private sealed class FileRow
    {
        public string File { get; set; } = "";
    }

    /// <summary>SchemaShape.Create is internal to ML.NET (estimators get shapes from the previous estimator); reach it for the test.</summary>
    private static SchemaShape Shape(DataViewSchema schema) => SchemaShapes.Of(schema);

    private static double Accuracy(int[] predicted, int[] truth) =>
        predicted.Zip(truth).Count(p => p.First == p.Second) / (double)truth.Length;
}
