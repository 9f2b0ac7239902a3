using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.PModels;

namespace Tina.Tests.MLNet;

public class ResNet18PipelineTests
{
    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private static List<TinaImagePrediction> Predict(MLContext ml, ITransformer model, IEnumerable<string> paths)
    {
        var rows = ml.Data.LoadFromEnumerable(paths.Select(p => new PathRow { ImagePath = p }));
        return ml.Data.CreateEnumerable<TinaImagePrediction>(model.Transform(rows), reuseRowObject: false).ToList();
    }

    private static double MaxDifference(IReadOnlyList<TinaImagePrediction> a, IReadOnlyList<TinaImagePrediction> b)
    {
        Assert.Equal(a.Count, b.Count);
        double max = 0;
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Score.Length, b[i].Score.Length);
            for (int k = 0; k < a[i].Score.Length; k++) max = Math.Max(max, Math.Abs(a[i].Score[k] - b[i].Score[k]));
        }
        return max;
    }

    [Fact]
    public void OneFileAndHeadChainsGiveTheSameScoresOnPhotosOfManySizesAndReloadInAFreshContext()
    {
        var f = ResNet18Fixture.Instance;
        Assert.Contains(f.Files, x => x.Width > x.Height);
        Assert.Contains(f.Files, x => x.Width < x.Height);
        Assert.Contains(f.Files, x => x.Width * x.Height >= 1_000_000);
        var paths = f.Files.Select(x => x.Path).ToArray();
        var oneFile = OnnxExporter.Export(f.Model, f.Task.Prompt, "classifier-selection");
        var head = OnnxExporter.ExportHead(new PModelEnsemble([f.Model]), f.Task.Prompt, "classifier-selection");
        Assert.True(head.Length < 16 * 1024, $"the head alone is {head.Length} bytes");
        Assert.True(oneFile.Length > 40_000_000, $"the one-file classifier is {oneFile.Length} bytes, too small to hold ResNet-18");

        var ml = new MLContext(seed: 0);
        var whole = TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = oneFile });
        var chained = TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = head });
        var a = Predict(ml, whole, paths);
        var b = Predict(ml, chained, paths);
        Assert.True(MaxDifference(a, b) < 1e-4, $"one-file and head chains differ by {MaxDifference(a, b):E2}");
        Assert.Equal(a.Select(p => p.Label), b.Select(p => p.Label));
        Assert.All(a, p => Assert.Equal(1.0, p.Score.Sum(), 3));
        // Different photos get different scores (the comparison is not between constant outputs).
        Assert.True(a.Select(p => p.Score[0]).Distinct().Count() > paths.Length / 2);

        // Both save and reload in a fresh context without any file of theirs left around.
        var work = TestData.TempDir();
        foreach (var (model, name, expected) in new[] { (whole, "one-file.zip", a), (chained, "head.zip", b) })
        {
            var zip = Path.Combine(work, name);
            TinaMLNetModel.Save(ml, model, zip);
            var ml2 = new MLContext(seed: 5);
            var loaded = ml2.Model.Load(zip, out _);
            var again = Predict(ml2, loaded, paths);
            Assert.True(MaxDifference(expected, again) < 1e-6, $"{name} reloaded differs by {MaxDifference(expected, again):E2}");
        }
    }

    [Fact]
    public void TheOneFileClassifierRecordsItsBackboneAndInputSize()
    {
        var f = ResNet18Fixture.Instance;
        var info = TinaOnnxModelReader.Read(OnnxExporter.Export(f.Model, f.Task.Prompt, "classifier-selection"), "one-file");
        Assert.Equal(224, info.ImageSize);
        Assert.False(info.HeadOnly);
        Assert.Equal(Tina.Features.BackboneFeatures.ResNet18.Backbone.Identity, info.Backbone);
        Assert.Equal("resnet18", info.Arch);
        var head = TinaOnnxModelReader.Read(OnnxExporter.ExportHead(new PModelEnsemble([f.Model]), f.Task.Prompt, "classifier-selection"), "head");
        Assert.True(head.HeadOnly);
        Assert.Equal(info.Backbone, head.Backbone);
        Assert.Equal(f.Task.Names, head.Labels);
    }

    [Fact]
    public void APredictorClassifiesRealPhotosLikeThePathChain()
    {
        var f = ResNet18Fixture.Instance;
        var oneFile = OnnxExporter.Export(f.Model, f.Task.Prompt, "classifier-selection");
        using var predictor = TinaPredictor.FromOnnx(oneFile);
        var ml = new MLContext(seed: 0);
        var viaChain = Predict(ml, TinaMLNetModel.Build(ml, new TinaClassifierOptions { OnnxModel = oneFile }), f.Files.Select(x => x.Path));
        for (int i = 0; i < f.Files.Count; i++)
        {
            var p = predictor.Predict(File.ReadAllBytes(f.Files[i].Path));
            Assert.Equal(viaChain[i].Label, p.Label);
            Assert.Equal(viaChain[i].Score[viaChain[i].Index], p.Score, 4);
        }
    }

    [Fact]
    public void CifarNetworksHaveNoHeadAloneToExport()
    {
        var model = new PModel(PModelArch.Cnn5k, ["a", "b"], new float[ParameterLayout.For(PModelArch.Cnn5k, 2).Count]);
        var e = Assert.Throws<TinaException>(() => OnnxExporter.ExportHead(new PModelEnsemble([model])));
        Assert.Contains("resnet18", e.Message);
    }
}
