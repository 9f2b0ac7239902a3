using Tina.Data;
using Tina.Generation;
using Tina.ImagePrompts;
using Tina.MLNet.Errors;
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
        // A projector serves only users of its own text encoder.
        Assert.Same(loaded, loaded.RequireEncoder(text.Id, "the generator"));
        Assert.Contains("fit a projector", Assert.Throws<TinaException>(() => loaded.RequireEncoder("glove-other", "the generator")).Message);

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
        // A camera-sized photo of a bear is a prompt image like any other.
        File.WriteAllBytes(Path.Combine(images, "bear", "c.jpg"), Tina.Tests.MLNet.TestPhotos.Upscaled(real.Data.Test.Image(bears[2]).ToArray(), 3000, 2000));
        PngWriter.Write(Path.Combine(images, "apple_1.png"), real.Data.Test.Image(real.Data.Test.IndicesOf(new HashSet<int> { apple })[0]));
        var onnx = Path.Combine(dir, "model.onnx");
        var (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", images, "--projector", projectorPath, "--out", onnx, "--steps", "5");
        Assert.True(code == 0, output);
        Assert.Contains("2 classes: apple, bear", output.ReplaceLineEndings(" ").Replace("  ", " "));
        using var predictor = Tina.MLNet.TinaPredictor.Load(onnx);
        Assert.Equal(["apple", "bear"], predictor.Labels);

        // A decompression bomb among the images is refused before decoding, naming the file and the limit.
        var bombs = Path.Combine(dir, "bombs");
        Directory.CreateDirectory(bombs);
        File.Copy(Path.Combine(images, "apple_1.png"), Path.Combine(bombs, "apple.png"));
        File.WriteAllBytes(Path.Combine(bombs, "bear.png"), Tina.Tests.MLNet.TestPhotos.PngBomb(30000, 30000));
        (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", bombs, "--projector", projectorPath, "--out", onnx, "--steps", "5");
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(bombs, "bear.png"), output);
        Assert.Contains("over the limit of 40 megapixels", output);

        // A folder without images, and a prompt given twice, are clear errors.
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", Path.Combine(dir, "empty"), "--projector", projectorPath, "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("holds no images", output);
        (code, output) = TinaProcess.Run(dir, "generate", "--generator", real.CheckpointDir, "--image-prompts", images, "--prompt", "apple", "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("one of --prompt", output);
    }

    [Fact]
    public void FewShotTrainingStartsFromAGeneratorAndConditionsSlotsOnProjectedImages()
    {
        var real = RealFixture.Value;
        using var text = new HashTextEncoder();
        var projector = ImagePromptProjector.Fit(real.Generic, real.Manifest.GenericModel, real.Data, text);
        var pool = ImagePromptPool.Build(projector, real.Generic, real.Data);
        // A class shown by all its training images gives the projector's own embedding of those images.
        int bear = pool.IndexOf("bear");
        var all = real.Data.Train.IndicesOf(new HashSet<int> { real.Data.ClassNames.ToList().IndexOf("bear") });
        var mine = new float[pool.Dimension];
        pool.Sample(bear, all.Length + 5, new Random(1), mine);
        var theirs = projector.Embed(real.Generic, real.Data.Train, all);
        Assert.True(mine.Zip(theirs).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        Assert.Equal(-1, pool.IndexOf("no such class"));

        // One epoch from the fixture's generator, half the slots on 2 images: it starts where that generator ended.
        var options = new TinaTrainingOptions { ConfigName = "tiny", Epochs = 1, BatchSize = 16, WarmupEpochs = 0, Seed = 9, LearningRate = 1e-4 };
        var fresh = new TinaTrainer(options with { ImagePromptShots = 2 }, text, imagePrompts: pool).Train(real.ZooDir, Path.Combine(TestData.TempDir(), "fresh"));
        var tuned = new TinaTrainer(options with { ImagePromptShots = 2, InitFrom = real.CheckpointDir }, text, imagePrompts: pool).Train(real.ZooDir, Path.Combine(TestData.TempDir(), "tuned"));
        Assert.True(tuned.EpochLoss[0] < fresh.EpochLoss[0] / 2, $"loss from the trained generator {tuned.EpochLoss[0]:F4}, fresh {fresh.EpochLoss[0]:F4}");
        var state = TinaCheckpoint.Load(tuned.CheckpointDir);
        Assert.Equal((2, real.CheckpointDir), (state.Options.ImagePromptShots, state.Options.InitFrom));
        // Image prompts need the pool, and the pool needs shots.
        Assert.Throws<TinaException>(() => new TinaTrainer(options with { ImagePromptShots = 2 }, text));
        Assert.Throws<TinaException>(() => new TinaTrainer(options, text, imagePrompts: pool));
        // Another transformer size cannot start from it.
        var e = Assert.Throws<TinaException>(() => new TinaTrainer(options with { ConfigName = "small", InitFrom = real.CheckpointDir }, text).Train(real.ZooDir, Path.Combine(TestData.TempDir(), "other")));
        Assert.Contains("Cannot start from", e.Message);
    }

    [Fact]
    public void TrainingSetupReadsTheZooAndTheProjectorOnceAndTrainsAsTheTrainerDoes()
    {
        var real = RealFixture.Value;
        using var text = new HashTextEncoder();
        var projectorPath = Path.Combine(TestData.TempDir(), "projector.safetensors");
        ImagePromptProjector.Fit(real.Generic, real.Manifest.GenericModel, real.Data, text).Save(projectorPath);

        using var setup = TinaTrainingSetup.Open(real.ZooDir);
        Assert.Equal((real.Manifest.Arch, real.Manifest.Tasks.Count), (setup.Manifest.Arch, setup.Manifest.Tasks.Count));
        Assert.Equal(Recipes.Recorded(real.Manifest.Recipe, setup.Arch), setup.Recipe);
        var pool = setup.LoadImagePrompts(projectorPath, text.Id, real.Data);
        Assert.Same(pool, setup.ImagePrompts);
        Assert.Equal(Path.GetFullPath(projectorPath), setup.ImagePromptProjector);

        var options = new TinaTrainingOptions { ConfigName = "tiny", Epochs = 1, BatchSize = 16, WarmupEpochs = 0, Seed = 9, ImagePromptShots = 2 };
        var viaSetup = setup.Train(options, text, null, Path.Combine(TestData.TempDir(), "setup"));
        var direct = new TinaTrainer(options with { ImagePromptProjector = Path.GetFullPath(projectorPath) }, text, imagePrompts: pool)
            .Train(real.ZooDir, Path.Combine(TestData.TempDir(), "direct"));
        Assert.Equal(direct.EpochLoss, viaSetup.EpochLoss);
        Assert.Equal(Path.GetFullPath(projectorPath), TinaCheckpoint.Load(viaSetup.CheckpointDir).Options.ImagePromptProjector);

        // A recipe of another architecture than the zoo's is refused before anything else is read.
        var other = Recipes.All.First(r => r.Arch != setup.Arch);
        var e = Assert.Throws<TinaException>(() => TinaTrainingSetup.Open(real.ZooDir, other.Name));
        Assert.Contains($"The recipe {other.Name} is for", e.Message);
    }
}
