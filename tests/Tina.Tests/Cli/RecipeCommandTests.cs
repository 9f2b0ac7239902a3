using Tina.Diffusion;
using Tina.Generation;
using Tina.Generic;
using Tina.PModels;
using Tina.Tests.Generation;
using Tina.Zoo;

namespace Tina.Tests.Cli;

/// <summary><c>tina zoo build --recipe</c> and <c>tina train</c>: options not given are the recipe's, and the recipe is recorded.</summary>
public class RecipeCommandTests
{
    [Fact]
    public void ZooBuildAndTrainTakeTheRecipesSettingsAndRecordIt()
    {
        var artifacts = TestData.TempDir();
        var data = Fixtures.Cifar;
        using (var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, 5), new GenericModelCard
            { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 5, Optimizer = "none" }))
            generic.Save(GenericModel.DefaultPath(artifacts, data.Name, PModelArch.Cnn5k));

        var zoo = Path.Combine(artifacts, "zoo");
        var (code, output) = TinaProcess.Run(artifacts, "zoo", "build", "--recipe", "cnn5k", "--tasks", "3", "--ood", "0", "--classes", "2-3", "--epochs", "1", "--group", "3", "--out", zoo);
        Assert.True(code == 0, output);
        var manifest = ZooManifest.Load(zoo);
        Assert.Equal("cnn5k", manifest.Recipe);
        Assert.Equal(Recipes.Cnn5k.Zoo.LearningRate, manifest.FineTune.LearningRate);
        Assert.Equal(Recipes.Cnn5k.Zoo.BatchSize, manifest.FineTune.BatchSize);

        // The zoo's recipe gives the generator's settings; options and ablations override single values.
        var checkpoint = Path.Combine(artifacts, "tina");
        (code, output) = TinaProcess.Run(artifacts, "train", "--zoo", zoo, "--config", "tiny", "--epochs", "1", "--batch-size", "2", "--encoder", "minilm",
            "--ablation", "rows,no-augmentation", "--out", checkpoint);
        Assert.True(code == 0, output);
        Assert.Contains("recipe cnn5k", output);
        var state = TinaCheckpoint.Load(checkpoint);
        Assert.Equal("cnn5k", state.Recipe);
        Assert.Equal((Recipes.Cnn5k.Generator.Normalization, Recipes.Cnn5k.Generator.LossWeighting, Recipes.Cnn5k.Generator.LearningRate),
            (state.Options.Normalization, state.Options.LossWeighting, state.Options.LearningRate));
        Assert.Equal((TokenLayout.ClassifierRows, false, 2), (state.Config.Tokens, state.Options.ClassifierAugmentation, state.Options.BatchSize));

        // A recipe of another architecture than the zoo's is refused.
        (code, output) = TinaProcess.Run(artifacts, "train", "--zoo", zoo, "--recipe", "resnet20-heads", "--encoder", "minilm", "--out", Path.Combine(artifacts, "other"));
        Assert.NotEqual(0, code);
        Assert.Contains("The recipe resnet20-heads is for resnet20 p-Models", output);
    }

    [Fact]
    public void TheResNet18RecipeTrainsWithTaskMixupUnlessTheAblationTurnsItOff()
    {
        var artifacts = TestData.TempDir();
        foreach (var (ablation, expected) in new (string[] Ablation, double Expected)[] { ([], Recipes.ResNet18Heads.Generator.TaskMixup), (["--ablation", "no-mixup"], 0.0) })
        {
            var checkpoint = Path.Combine(artifacts, ablation.Length == 0 ? "tina-recipe" : "tina-no-mixup");
            var (code, output) = TinaProcess.Run(artifacts, ["train", "--zoo", ResNet18GenerationFixture.ZooDir, "--config", "tiny", "--epochs", "1", "--encoder", "minilm", .. ablation, "--out", checkpoint]);
            Assert.True(code == 0, output);
            var line = System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");   // the console wraps long lines
            Assert.Contains("recipe resnet18-heads", line);
            Assert.Equal(expected > 0, line.Contains("task mixup 0.5"));
            Assert.Equal(expected, TinaCheckpoint.Load(checkpoint).Options.TaskMixup);
        }
        Assert.Equal(0.5, Recipes.ResNet18Heads.Generator.TaskMixup);
    }
}
