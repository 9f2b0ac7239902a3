using System.IO.Compression;
using Microsoft.ML;
using Tina.MLNet.MLNet;
using Tina.PModels;

namespace Tina.Tests.MLNet;

public class TinaPredictorTests
{
    [Fact]
    public void OnnxAndZipGiveTheSamePredictions()
    {
        var f = ThreeClassFixture.ForImages;
        var dir = TestData.TempDir();
        var onnxPath = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(onnxPath, f.Onnx);
        var images = f.FileNames.Take(12).Select(n => Path.Combine(f.ImageDir, n)).ToList();

        List<TinaPrediction> fromOnnx;
        using (var p = TinaPredictor.Load(onnxPath))
        {
            Assert.Equal(f.Model.Labels, p.Labels);
            Assert.Equal(PModelArch.Cnn5k, p.ModelInfo!.Arch);
            Assert.Equal("apple, aquarium fish, baby", p.ModelInfo.Prompt);
            fromOnnx = p.Predict(images).ToList();
            var zipPath = Path.Combine(dir, "model.zip");
            TinaMLNetModel.Save(new MLContext(), p.Model, zipPath);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        File.Delete(onnxPath);

        using var fromZip = TinaPredictor.Load(Path.Combine(dir, "model.zip"));
        Assert.Equal(f.Model.Labels, fromZip.Labels);
        Assert.Equal("ridge-test", fromZip.ModelInfo!.Method);
        for (int i = 0; i < images.Count; i++)
        {
            var a = fromOnnx[i];
            var b = fromZip.Predict(images[i]);
            Assert.Equal(images[i], a.ImagePath);
            Assert.Equal(f.Model.Labels[a.ClassIndex], a.Label);
            Assert.Equal(a.Scores.Max(), a.Score);
            Assert.Equal(3, a.Scores.Length);
            Assert.Equal(a.Label, b.Label);
            Assert.Equal(a.ClassIndex, b.ClassIndex);
            Assert.Equal(a.Scores, b.Scores);
        }
    }

    [Fact]
    public void BadModelFilesGiveTinaErrorsNamingTheFile()
    {
        var dir = TestData.TempDir();
        var missing = Path.Combine(dir, "missing.onnx");
        Assert.Contains(missing, Assert.Throws<TinaFileNotFoundException>(() => TinaPredictor.Load(missing)).Message);

        var text = Path.Combine(dir, "readme.onnx");
        File.WriteAllText(text, "not a model\n");
        Assert.Contains(text, Assert.ThrowsAny<TinaException>(() => TinaPredictor.Load(text)).Message);

        var zip = Path.Combine(dir, "other.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var w = new StreamWriter(archive.CreateEntry("hello.txt").Open()))
            w.Write("not an ML.NET model");
        Assert.Contains(zip, Assert.ThrowsAny<TinaException>(() => TinaPredictor.Load(zip)).Message);

        var empty = Path.Combine(dir, "empty.zip");
        File.WriteAllBytes(empty, []);
        Assert.Contains(empty, Assert.ThrowsAny<TinaException>(() => TinaPredictor.Load(empty)).Message);
    }

    [Fact]
    public void MissingOrUnreadableImagesGiveTinaErrorsNamingTheFile()
    {
        var f = ThreeClassFixture.ForImages;
        var dir = TestData.TempDir();
        var onnxPath = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(onnxPath, f.Onnx);
        using var predictor = TinaPredictor.Load(onnxPath);
        var noImage = Path.Combine(dir, "nope.png");
        Assert.Contains(noImage, Assert.Throws<TinaFileNotFoundException>(() => predictor.Predict(noImage)).Message);
        var notImage = Path.Combine(dir, "fake.png");
        File.WriteAllText(notImage, "these bytes are not a PNG");
        Assert.Contains(notImage, Assert.ThrowsAny<TinaException>(() => predictor.Predict(notImage)).Message);
        // The predictor still works after a bad image.
        Assert.Equal(3, predictor.Predict(Path.Combine(f.ImageDir, f.FileNames[0])).Scores.Length);
    }
}
