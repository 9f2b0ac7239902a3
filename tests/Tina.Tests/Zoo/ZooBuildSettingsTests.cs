using Tina.MLNet.Errors;
using Tina.Zoo;

namespace Tina.Tests.Zoo;

/// <summary><see cref="ZooBuildSettings"/>, the options of <c>tina zoo build</c> as the library takes them.</summary>
public class ZooBuildSettingsTests
{
    [Fact]
    public void NoSettingsGiveTheRecipesOptions()
    {
        foreach (var recipe in Recipes.All)
        {
            var expected = ZooBuildOptions.FromRecipe(recipe);
            var actual = new ZooBuildSettings().ToOptions(recipe);
            Assert.Equal(expected.UnseenRatios, actual.UnseenRatios);
            Assert.Equal(expected, actual with { UnseenRatios = expected.UnseenRatios });   // the record compares the list by reference
        }
    }

    [Fact]
    public void GivenSettingsOverrideTheRecipe()
    {
        var options = new ZooBuildSettings
        {
            TrainTasks = 7, OodTasks = 0, Epochs = 2, BatchSize = 16, ModelsPerGroup = 3, LearningRate = 0.1, ClassesPerTask = (3, 5), Seed = 4,
            LabelSmoothing = 0.1, L2SP = 0.01, BodyLearningRateScale = 0.25, AugmentedViews = 2, UnseenClassFraction = 0.5, ValidationFraction = 0.1,
            Slice = new ZooSlice(1, 3),
        }.ToOptions(Recipes.Cnn5k);
        Assert.Equal((7, 0, 4, 5, 3), (options.TrainTasks, options.OodTasks, options.Seed, options.ClassesPerTask, options.MinClassesPerTask));
        Assert.Equal((2, 16, 3, 0.1, 0.1, 0.01, 0.25, 2), (options.FineTune.Epochs, options.FineTune.BatchSize, options.FineTune.ModelsPerGroup,
            options.FineTune.LearningRate, options.FineTune.LabelSmoothing, options.FineTune.L2SP, options.FineTune.BodyLearningRateScale, options.FineTune.AugmentedViews));
        Assert.Equal((0.5, 0.1, new ZooSlice(1, 3), Recipes.Cnn5k.Name), (options.UnseenClassFraction, options.ValidationFraction, options.Slice, options.Recipe));
    }

    [Theory]
    [InlineData("unseen", "--unseen-classes must be at least 0 and below 1")]
    [InlineData("tasks", "--tasks, --epochs and --batch-size must be ≥ 1")]
    [InlineData("views", "--ood and --augmented-views ≥ 0")]
    [InlineData("l2sp", "--l2-sp must be 0 or more")]
    [InlineData("body", "--body-lr-scale must be 0 or more")]
    [InlineData("val", "--val-fraction must be at least 0 and below 1")]
    public void SettingsOutOfRangeAreRefusedNamingTheOption(string which, string expected)
    {
        var settings = which switch
        {
            "unseen" => new ZooBuildSettings { UnseenClassFraction = 1 },
            "tasks" => new ZooBuildSettings { TrainTasks = 0 },
            "views" => new ZooBuildSettings { AugmentedViews = -1 },
            "l2sp" => new ZooBuildSettings { L2SP = double.NaN },
            "body" => new ZooBuildSettings { BodyLearningRateScale = double.NaN },
            _ => new ZooBuildSettings { ValidationFraction = -0.1 },
        };
        Assert.Contains(expected, Assert.Throws<TinaException>(() => settings.ToOptions(Recipes.Cnn5k)).Message);
    }
}
