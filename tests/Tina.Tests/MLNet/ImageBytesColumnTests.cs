using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;
using Tina.MLNet.Errors;

namespace Tina.Tests.MLNet;

/// <summary>
/// The ML.NET chain over an input column of encoded bytes (<c>byte[]</c>: what an upload or a database gives): the
/// same predictions as over file paths, saved and reloaded in a fresh <see cref="MLContext"/>, and Tina's size limits
/// and typed errors where it decodes.
/// </summary>
public class ImageBytesColumnTests
{
    private sealed class Upload
    {
        public byte[] Photo { get; set; } = [];
    }

    [Fact]
    public void ABytesColumnPredictsLikeFilePathsAndSurvivesSaveAndReload()
    {
        var f = ThreeClassFixture.Instance;
        var files = f.FileNames.Select(n => Path.Combine(f.ImageDir, n)).ToArray();
        var ml = new MLContext(seed: 0);
        using var byPath = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx }).Fit(TinaMLNetModel.EmptyInput(ml));
        using var pathEngine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(byPath);
        var expected = files.Select(p => pathEngine.Predict(new TinaImageInput { ImagePath = p }).Score).ToArray();

        using var byBytes = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx, InputColumnName = TinaCatalog.Defaults.ImageBytesColumnName })
            .Fit(TinaMLNetModel.EmptyBytesInput(ml));
        using (var engine = ml.Model.CreatePredictionEngine<TinaImageBytesInput, TinaImagePrediction>(byBytes))
            for (int i = 0; i < files.Length; i++)
                Assert.Equal(expected[i], engine.Predict(new TinaImageBytesInput { ImageBytes = File.ReadAllBytes(files[i]) }).Score);

        var zip = Path.Combine(TestData.TempDir(), "bytes.zip");
        TinaMLNetModel.Save(ml, byBytes, zip, TinaMLNetModel.EmptyBytesInput(ml).Schema);

        // A fresh context: TinaMLNetModel.Load registers Tina's decoding step with it; before ML.NET's own Load, RegisterWith does.
        var fresh = new MLContext();
        var loaded = TinaMLNetModel.Load(fresh, zip, out var schema);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Byte), schema[TinaCatalog.Defaults.ImageBytesColumnName].Type);
        using (var engine = fresh.Model.CreatePredictionEngine<TinaImageBytesInput, TinaImagePrediction>(loaded))
            for (int i = 0; i < files.Length; i++)
                Assert.Equal(expected[i], engine.Predict(new TinaImageBytesInput { ImageBytes = File.ReadAllBytes(files[i]) }).Score);
        (loaded as IDisposable)?.Dispose();

        var registered = new MLContext();
        TinaMLNetModel.RegisterWith(registered);
        var again = registered.Model.Load(zip, out _);
        using (var engine = registered.Model.CreatePredictionEngine<TinaImageBytesInput, TinaImagePrediction>(again))
            Assert.Equal(expected[0], engine.Predict(new TinaImageBytesInput { ImageBytes = File.ReadAllBytes(files[0]) }).Score);
        (again as IDisposable)?.Dispose();
    }

    [Fact]
    public void AnyBytesColumnNameWorksAndBadBytesGiveTinasTypedErrors()
    {
        var f = ThreeClassFixture.Instance;
        var ml = new MLContext(seed: 0);
        var input = ml.Data.LoadFromEnumerable(Array.Empty<Upload>());
        using var model = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx, InputColumnName = nameof(Upload.Photo) }).Fit(input);
        using var engine = ml.Model.CreatePredictionEngine<Upload, TinaImagePrediction>(model);
        var photo = File.ReadAllBytes(Path.Combine(f.ImageDir, f.FileNames[1]));
        Assert.Equal(3, engine.Predict(new Upload { Photo = photo }).Score.Length);

        var corrupt = Assert.ThrowsAny<Exception>(() => engine.Predict(new Upload { Photo = "not an image"u8.ToArray() }));
        Assert.IsType<CorruptFileException>(Unwrap(corrupt));
        Assert.IsAssignableFrom<IOException>(Unwrap(corrupt));

        // A bomb: a PNG header that declares 30,000 × 30,000 pixels is refused before decoding.
        var bomb = Assert.ThrowsAny<Exception>(() => engine.Predict(new Upload { Photo = TestPhotos.PngBomb(30_000, 30_000) }));
        Assert.IsType<ImageTooLargeException>(Unwrap(bomb));

        // The chain still works after bad rows.
        Assert.Equal(3, engine.Predict(new Upload { Photo = photo }).Score.Length);
    }

    [Fact]
    public void OtherColumnTypesAreRefusedNamingTheAcceptedOnes()
    {
        var ml = new MLContext(seed: 0);
        var input = ml.Data.LoadFromEnumerable(Array.Empty<Floats>());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = ThreeClassFixture.Instance.Onnx, InputColumnName = "Values" }).Fit(input));
        Assert.Contains("expected String (file paths), Vector<Byte> (encoded PNG/JPEG/… bytes, byte[]) or Image (MLImage), got Vector<Single>", e.Message);
    }

    private sealed class Floats
    {
        public float[] Values { get; set; } = [];
    }

    /// <summary>The Tina error, if ML.NET wrapped it.</summary>
    private static Exception Unwrap(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is ITinaError) return x;
        return e;
    }
}
