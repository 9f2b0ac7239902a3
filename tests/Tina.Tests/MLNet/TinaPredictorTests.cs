using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.PModels;

namespace Tina.Tests.MLNet;

public class TinaPredictorTests
{
    [Fact]
    public void OnnxAndZipGiveTheSamePredictions()
    {
        var f = ThreeClassFixture.Instance;
        var dir = TestData.TempDir();
        var onnxPath = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(onnxPath, f.Onnx);
        var images = f.FileNames.Take(12).Select(n => Path.Combine(f.ImageDir, n)).ToList();

        List<TinaPrediction> fromOnnx;
        using (var p = TinaPredictor.Load(onnxPath))
        {
            Assert.Equal(f.Model.Labels, p.Labels);
            Assert.Equal("cnn5k", p.ModelInfo!.Arch);
            Assert.Equal("apple, aquarium fish, baby", p.ModelInfo.Prompt);
            fromOnnx = p.Predict(images).ToList();
            var zipPath = Path.Combine(dir, "model.zip");
            var ml = new MLContext();
            TinaMLNetModel.Save(ml, p.Model, zipPath, TinaMLNetModel.EmptyImageInput(ml).Schema);
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
            Assert.Equal(images[i], a.Source);
            Assert.Equal(f.Model.Labels[a.ClassIndex], a.Label);
            Assert.Equal(a.Scores.Max(), a.Score);
            Assert.Equal(3, a.Scores.Length);
            Assert.Equal(a.Label, b.Label);
            Assert.Equal(a.ClassIndex, b.ClassIndex);
            Assert.Equal(a.Scores, b.Scores);
        }
    }

    [Fact]
    public void BytesStreamsAndInMemoryImagesPredictLikeFilesAndThePredictorIsThreadSafe()
    {
        var f = ThreeClassFixture.Instance;
        using var predictor = TinaPredictor.FromOnnx(f.Onnx, "fixture");
        var files = f.FileNames.Take(24).Select(n => Path.Combine(f.ImageDir, n)).ToArray();
        var expected = files.Select(predictor.Predict).ToArray();
        for (int i = 0; i < files.Length; i++)
        {
            var bytes = File.ReadAllBytes(files[i]);
            var fromBytes = predictor.Predict(bytes);
            using var stream = File.OpenRead(files[i]);
            var fromStream = predictor.Predict(stream, files[i]);
            using var image = MLImage.CreateFromFile(files[i]);
            var fromImage = predictor.Predict(image);
            foreach (var p in new[] { fromBytes, fromStream, fromImage })
            {
                Assert.Equal(expected[i].Label, p.Label);
                Assert.Equal(expected[i].Scores, p.Scores);
            }
        }

        // The same predictions from many threads at once (one pooled engine per concurrent caller).
        var parallel = new TinaPrediction[files.Length * 4];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = predictor.Predict(files[i % files.Length]));
        for (int i = 0; i < parallel.Length; i++) Assert.Equal(expected[i % files.Length].Scores, parallel[i].Scores);

        // The path pipeline (LoadImages over file paths) gives the same scores as the in-memory one.
        var ml = new MLContext(seed: 1);
        var pathModel = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx }).Fit(TinaMLNetModel.EmptyInput(ml));
        var engine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(pathModel);
        for (int i = 0; i < files.Length; i++) Assert.Equal(expected[i].Scores, engine.Predict(new TinaImageInput { ImagePath = files[i] }).Score);

        TinaAssert.ThrowsTinaError(() => predictor.Predict("not an image"u8.ToArray()));
    }

    [Fact]
    public void BadModelFilesGiveTinaErrorsNamingTheFile()
    {
        var dir = TestData.TempDir();
        var missing = Path.Combine(dir, "missing.onnx");
        Assert.Contains(missing, Assert.Throws<TinaFileNotFoundException>(() => TinaPredictor.Load(missing)).Message);

        var text = Path.Combine(dir, "readme.onnx");
        File.WriteAllText(text, "not a model\n");
        Assert.Contains(text, TinaAssert.ThrowsTinaError(() => TinaPredictor.Load(text)).Message);

        var zip = Path.Combine(dir, "other.zip");
        using (var archive = ZipFile.Open(zip, ZipArchiveMode.Create))
        using (var w = new StreamWriter(archive.CreateEntry("hello.txt").Open()))
            w.Write("not an ML.NET model");
        Assert.Contains(zip, TinaAssert.ThrowsTinaError(() => TinaPredictor.Load(zip)).Message);

        var empty = Path.Combine(dir, "empty.zip");
        File.WriteAllBytes(empty, []);
        Assert.Contains(empty, TinaAssert.ThrowsTinaError(() => TinaPredictor.Load(empty)).Message);
    }

    [Fact]
    public void MissingOrUnreadableImagesGiveTinaErrorsNamingTheFile()
    {
        var f = ThreeClassFixture.Instance;
        var dir = TestData.TempDir();
        var onnxPath = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(onnxPath, f.Onnx);
        using var predictor = TinaPredictor.Load(onnxPath);
        var noImage = Path.Combine(dir, "nope.png");
        Assert.Contains(noImage, Assert.Throws<TinaFileNotFoundException>(() => predictor.Predict(noImage)).Message);
        var notImage = Path.Combine(dir, "fake.png");
        File.WriteAllText(notImage, "these bytes are not a PNG");
        Assert.Contains(notImage, TinaAssert.ThrowsTinaError(() => predictor.Predict(notImage)).Message);
        // The predictor still works after a bad image.
        Assert.Equal(3, predictor.Predict(Path.Combine(f.ImageDir, f.FileNames[0])).Scores.Length);
    }
}
