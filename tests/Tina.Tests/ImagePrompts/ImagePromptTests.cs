using Tina.Data;
using Tina.Generation;
using Tina.ImagePrompts;
using Tina.Tests.Generation;
using Tina.Tests.Proof;
using Tina.Text;

namespace Tina.Tests.ImagePrompts;

public class ImagePromptTests
{
    [Fact]
    public void ImagesOfAClassLandNearItsNameAndTheProjectorRoundTrips()
    {
        var real = RealFixture.Value;
        using var text = new HashTextEncoder();
        var projector = ImagePromptProjector.Fit(real.Generic, real.Manifest.GenericModel, real.Data, text);
        var path = Path.Combine(TestData.TempDir(), "projector.safetensors");
        projector.Save(path);
        var loaded = ImagePromptProjector.Load(path);
        Assert.Equal((projector.FeatureDim, projector.TextDim, projector.TextEncoderId), (loaded.FeatureDim, loaded.TextDim, loaded.TextEncoderId));

        // Five test images of a class (never seen by the fit) are nearer that class's name than any other name, well above chance.
        var names = text.Encode(real.Data.ClassNames);
        int hits = 0;
        for (int c = 0; c < real.Data.NumClasses; c++)
        {
            var idx = real.Data.Test.IndicesOf(new HashSet<int> { c }).Take(5).ToArray();
            var v = loaded.Embed(real.Generic, real.Data.Test, idx);
            var best = Enumerable.Range(0, names.Length).MaxBy(j => TextVectors.Cosine(v, names[j]));
            if (best == c) hits++;
        }
        // The fixture's generic model is weak (2 epochs, 30 images per class); chance is 1 class of 20.
        Assert.True(hits >= 4, $"{hits} of {real.Data.NumClasses} classes' images are nearest their own name (chance: 1)");
        Assert.Throws<CorruptFileException>(() => ImagePromptProjector.Load(real.CheckpointDir + "/" + Directory.GetFiles(real.CheckpointDir, "*.safetensors").Select(Path.GetFileName).First()));
    }

    [Fact]
    public void ImagePromptFoldersGiveTheFolderNamesAsLabels()
    {
        var real = RealFixture.Value;
        using var text = new HashTextEncoder();
        var dir = TestData.TempDir();
        var projectorPath = Path.Combine(dir, "projector.safetensors");
        ImagePromptProjector.Fit(real.Generic, real.Manifest.GenericModel, real.Data, text).Save(projectorPath);
        // bear/ with two images and apple_1.png alone; the labels come out sorted: apple, bear.
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "bear"));
        int bear = real.Data.ClassNames.ToList().IndexOf("bear"), apple = real.Data.ClassNames.ToList().IndexOf("apple");
        var bears = real.Data.Test.IndicesOf(new HashSet<int> { bear });
        PngWriter.Write(Path.Combine(images, "bear", "a.png"), real.Data.Test.Image(bears[0]));
        PngWriter.Write(Path.Combine(images, "bear", "b.png"), real.Data.Test.Image(bears[1]));
        PngWriter.Write(Path.Combine(images, "apple_1.png"), real.Data.Test.Image(real.Data.Test.IndicesOf(new HashSet<int> { apple })[0]));
        var onnx = Path.Combine(dir, "model.onnx");
        var (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", images, "--projector", projectorPath, "--out", onnx, "--steps", "5");
        Assert.True(code == 0, output);
        Assert.Contains("2 classes: apple, bear", output.ReplaceLineEndings(" ").Replace("  ", " "));
        using var predictor = Tina.MLNet.TinaPredictor.Load(onnx);
        Assert.Equal(["apple", "bear"], predictor.Labels);

        // A folder without images, and a prompt given twice, are clear errors.
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", Path.Combine(dir, "empty"), "--projector", projectorPath, "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("holds no images", output);
        (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", images, "--prompt", "apple", "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("one of --prompt", output);
    }
}
