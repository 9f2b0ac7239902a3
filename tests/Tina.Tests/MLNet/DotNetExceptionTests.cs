using Microsoft.ML;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;

namespace Tina.Tests.MLNet;

/// <summary>
/// Tina's user errors are caught by the handlers .NET developers write: a missing model by
/// <c>catch (FileNotFoundException)</c>, corrupt bytes by <c>catch (IOException)</c>, a bad prompt or an oversized
/// image by <c>catch (ArgumentException)</c> — each with Tina's message, and each an <see cref="ITinaError"/>, the one
/// marker the CLI catches.
/// </summary>
public class DotNetExceptionTests
{
    [Fact]
    public void AMissingModelIsCaughtAsFileNotFoundException()
    {
        var missing = Path.Combine(TestData.TempDir(), "fruit.zip");
        string? caught = null;
        try
        {
            using var predictor = TinaPredictor.Load(missing);
        }
        catch (FileNotFoundException e)
        {
            caught = e.Message;
            Assert.Equal(missing, e.FileName);
            Assert.IsAssignableFrom<ITinaError>(e);
            Assert.IsAssignableFrom<IOException>(e);
        }
        Assert.NotNull(caught);
        Assert.StartsWith($"File not found: {missing}.", caught);
    }

    [Fact]
    public void CorruptImageBytesAreCaughtAsIOExceptionNamingTheProblem()
    {
        using var predictor = TinaPredictor.FromOnnx(ThreeClassFixture.Instance.Onnx);
        string? caught = null;
        try
        {
            predictor.Predict("these bytes are not a PNG"u8.ToArray());
        }
        catch (IOException e)
        {
            caught = e.Message;
            var corrupt = Assert.IsType<CorruptFileException>(e);
            Assert.Equal("image bytes", corrupt.FilePath);
            Assert.StartsWith("not a readable image", corrupt.Problem);
        }
        Assert.Equal("Corrupt or unreadable file image bytes: not a readable image (unknown format)", caught);
        // .NET's InvalidDataException is sealed: no Tina type can derive from it (documented on ITinaError).
        Assert.True(typeof(InvalidDataException).IsSealed);
    }

    [Fact]
    public void AModelThatIsNotTinasIsAnIOExceptionToo()
    {
        var proto = Tina.MLNet.Export.TinaOnnxModelReader.Parse(ThreeClassFixture.Instance.Onnx, "x");
        proto.MetadataProps.Clear();
        var bytes = Google.Protobuf.MessageExtensions.ToByteArray(proto);
        var e = Assert.Throws<InvalidModelException>(() => TinaPredictor.FromOnnx(bytes, "foreign.onnx"));
        Assert.IsAssignableFrom<IOException>(e);
        Assert.Contains("foreign.onnx is an ONNX model but not a Tina classifier", e.Message);
    }

    [Fact]
    public void ABadPromptIsCaughtAsArgumentExceptionWithTinasMessage()
    {
        var ml = new MLContext(seed: 0);
        string? caught = null;
        try
        {
            ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "unused", Prompt = "apple, pear, apple" });
        }
        catch (ArgumentException e)
        {
            caught = e.Message;
            Assert.IsType<InvalidPromptException>(e);
            Assert.Null(e.ParamName);
            Assert.IsAssignableFrom<ITinaError>(e);
        }
        Assert.NotNull(caught);
        Assert.Contains("apple", caught);
        Assert.DoesNotContain("(Parameter", caught);
    }

    [Fact]
    public void AnOversizedImageIsAnArgumentException()
    {
        using var predictor = TinaPredictor.FromOnnx(ThreeClassFixture.Instance.Onnx);
        predictor.ImageLimits = new TinaImageLimits { MaxBytes = 10 };
        var e = Assert.Throws<ImageTooLargeException>(() => predictor.Predict(new byte[11]));
        Assert.IsAssignableFrom<ArgumentException>(e);
        Assert.Equal("image bytes is too large: 11 bytes, over the limit of 10 bytes per image.", e.Message);
    }

    [Fact]
    public void EveryTinaErrorTypeIsMarked()
    {
        var types = typeof(ITinaError).Assembly.GetExportedTypes().Where(t => typeof(Exception).IsAssignableFrom(t) && t.Namespace == typeof(ITinaError).Namespace).ToList();
        Assert.Contains(typeof(TinaFileNotFoundException), types);
        Assert.All(types, t => Assert.True(typeof(ITinaError).IsAssignableFrom(t), $"{t} is not an ITinaError"));
    }
}
