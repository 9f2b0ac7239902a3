using Tina.Diffusion;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Tests.Generation;
using Tina.Zoo;

namespace Tina.Tests.Zoo;

public class RecipeTests
{
    [Fact]
    public void EveryArchitectureHasOneRecipeAndNamesAreFoundInAnyCase()
    {
        Assert.Equal(["resnet18-heads", "resnet20-heads", "cnn5k"], Recipes.All.Select(r => r.Name));
        foreach (var arch in Enum.GetValues<PModelArch>())
            Assert.Single(Recipes.All, r => r.Arch == arch);
        Assert.Same(Recipes.ResNet18Heads, Recipes.For(PModelArch.ResNet18));
        Assert.Same(Recipes.Cnn5k, Recipes.Get(" CNN5K "));
        var e = Assert.Throws<TinaException>(() => Recipes.Get("resnet50"));
        Assert.Contains("resnet18-heads, resnet20-heads, cnn5k", e.Message);
        // A recorded name of another architecture, an unknown one or none: the architecture's recipe.
        Assert.Same(Recipes.ResNet20Heads, Recipes.Recorded("cnn5k", PModelArch.ResNet20));
        Assert.Same(Recipes.ResNet20Heads, Recipes.Recorded(null, PModelArch.ResNet20));
        Assert.Same(Recipes.Cnn5k, Recipes.Recorded("cnn5k", PModelArch.Cnn5k));
    }

    [Fact]
    public void EveryRecipeGivesValidOptionsThatNameIt()
    {
        foreach (var recipe in Recipes.All)
        {
            var training = TinaTrainingOptions.FromRecipe(recipe).Validate();
            Assert.Equal(recipe.Name, training.Recipe);
            Assert.Equal((recipe.Generator.Config, recipe.Generator.Epochs, recipe.Generator.BatchSize, recipe.Generator.LearningRate, recipe.Generator.Normalization, recipe.Generator.Tokens),
                (training.ConfigName, training.Epochs, training.BatchSize, training.LearningRate, training.Normalization, training.Tokens));
            var zoo = ZooBuildOptions.FromRecipe(recipe);
            Assert.Equal(recipe.Name, zoo.Recipe);
            Assert.Equal((recipe.Zoo.TrainTasks, recipe.Zoo.OodTasks, recipe.Zoo.MinClasses, recipe.Zoo.MaxClasses), (zoo.TrainTasks, zoo.OodTasks, zoo.MinClassesPerTask!.Value, zoo.ClassesPerTask));
            Assert.Equal((recipe.Zoo.Epochs, recipe.Zoo.LearningRate, recipe.Zoo.BatchSize, recipe.Zoo.ModelsPerGroup), (zoo.FineTune.Epochs, zoo.FineTune.LearningRate!.Value, zoo.FineTune.BatchSize, zoo.FineTune.ModelsPerGroup));
        }
        // The measured settings (docs/RESULTS.md).
        Assert.Equal((0.005, 10, ParameterNormalization.PerTensor, 2), (Recipes.ResNet18Heads.Zoo.LearningRate, Recipes.ResNet18Heads.Zoo.Epochs, Recipes.ResNet18Heads.Generator.Normalization, Recipes.ResNet18Heads.Generator.DdimSteps));
        Assert.Equal((16, 30, TokenLayout.SharedSlots), (Recipes.ResNet18Heads.Generator.BatchSize, Recipes.ResNet18Heads.Generator.Epochs, Recipes.ResNet18Heads.Generator.Tokens));
        Assert.Equal((LossWeighting.PerTensor, 100), (Recipes.Cnn5k.Generator.LossWeighting, Recipes.Cnn5k.Generator.Epochs));
    }

    [Fact]
    public void TheZooManifestAndTheCheckpointRecordTheRecipe()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 32, testPerClass: 10);
        using var generic = Fixtures.UntrainedGeneric(data, PModelArch.Cnn5k, seed: 11);
        var zoo = TestData.TempDir();
        var options = ZooBuildOptions.FromRecipe(Recipes.Cnn5k) with
        {
            TrainTasks = 4, OodTasks = 0, ClassesPerTask = 4, MinClassesPerTask = 4, Seed = 3,
            FineTune = ZooBuildOptions.FromRecipe(Recipes.Cnn5k).FineTune with { Epochs = 1, BatchSize = 16, ModelsPerGroup = 4 },
        };
        new ZooBuilder(generic, "generic", data, options).Build(zoo);
        Assert.Equal("cnn5k", ZooManifest.Load(zoo).Recipe);
        // A zoo built before recipes (no name in its manifest) resumes under a recipe: the name is not a setting.
        new ZooBuilder(generic, "generic", data, options with { Recipe = null }).Build(zoo);

        var dir = Path.Combine(TestData.TempDir(), "recipe");
        using var encoder = new HashTextEncoder();
        new TinaTrainer(GenerationFixture.Options(1) with { Recipe = "cnn5k", MaxClasses = 4 }, encoder).Train(zoo, dir);
        Assert.Equal("cnn5k", TinaCheckpoint.Load(dir).Recipe);
        using var gen = TinaGenerator.Load(dir);
        Assert.Equal(Recipes.Cnn5k.Generator.DdimSteps, gen.DefaultDdimSteps);
    }
}
