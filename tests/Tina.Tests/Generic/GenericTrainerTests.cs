using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;

namespace Tina.Tests.Generic;

public class GenericTrainerTests
{
    private static GenericTrainingOptions Options(int epochs) => new()
    {
        Arch = PModelArch.Cnn5k, Epochs = epochs, BatchSize = 64, Seed = 7,
    };

    [Fact]
    public void SameSeedGivesSameWeightsAndLearnsSomething()
    {
        var data = Fixtures.CifarSubset(classes: 5, perClass: 200);
        using var a = new GenericTrainer(Options(2), TestData.TempDir()).Train(data);
        using var b = new GenericTrainer(Options(2), TestData.TempDir()).Train(data);
        Assert.Equal(StateDict.Flatten(a.Network), StateDict.Flatten(b.Network));
        // 5-way chance is 20 %; two epochs on 1,000 real images must beat it clearly.
        Assert.True(a.Card.TestAccuracy > 30, $"test accuracy {a.Card.TestAccuracy}");
    }

    [Fact]
    public void KilledRunResumesToTheSameWeights()
    {
        var data = Fixtures.CifarSubset(classes: 4, perClass: 100);
        var ckpt = TestData.TempDir();
        using var cts = new CancellationTokenSource();
        // Cancel during epoch 2: epoch 1's checkpoint stays, the partial epoch is lost, like a kill -9.
        var progress = new Cancel(cts, epoch: 2);
        Assert.ThrowsAny<OperationCanceledException>(() => new GenericTrainer(Options(3), ckpt).Train(data, progress, cts.Token));
        Assert.True(File.Exists(Path.Combine(ckpt, "state.json")));
        using var resumed = new GenericTrainer(Options(3), ckpt).Train(data);
        using var straight = new GenericTrainer(Options(3), TestData.TempDir()).Train(data);
        Assert.Equal(StateDict.Flatten(straight.Network), StateDict.Flatten(resumed.Network));
    }

    [Fact]
    public void BatchNormNetworkResumesFromItsCheckpoint()
    {
        var data = Fixtures.CifarSubset(classes: 3, perClass: 32, testPerClass: 8);
        var o = new GenericTrainingOptions { Arch = PModelArch.ResNet20, Epochs = 2, BatchSize = 32, Seed = 3 };
        var ckpt = TestData.TempDir();
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => new GenericTrainer(o, ckpt).Train(data, new Cancel(cts, epoch: 2), cts.Token));
        using var resumed = new GenericTrainer(o, ckpt).Train(data);
        using var straight = new GenericTrainer(o, TestData.TempDir()).Train(data);
        Assert.Equal(StateDict.Flatten(straight.Network), StateDict.Flatten(resumed.Network));
    }

    [Fact]
    public void SaveLoadRoundTripsAndCorruptWeightsAreReported()
    {
        var data = Fixtures.CifarSubset(classes: 3, perClass: 50);
        using var m = new GenericTrainer(Options(1), TestData.TempDir()).Train(data);
        var path = Path.Combine(TestData.TempDir(), "g");
        m.Save(path);
        using var loaded = GenericModel.Load(path + ".json");
        Assert.Equal(StateDict.Flatten(m.Network), StateDict.Flatten(loaded.Network));
        Assert.Equal(m.Card.Classes, loaded.Card.Classes);

        var bytes = File.ReadAllBytes(path + ".safetensors");
        File.WriteAllBytes(path + ".safetensors", bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CorruptFileException>(() => GenericModel.Load(path));
        Assert.Contains(".safetensors", e.Message);
        Assert.Throws<TinaFileNotFoundException>(() => GenericModel.Load(Path.Combine(TestData.TempDir(), "missing")));
    }

    [Fact]
    public void AHeldOutShareIsNeverTrainedOnAndTheRecipeSearchValidatesOnIt()
    {
        var data = Fixtures.CifarSubset(classes: 4, perClass: 64, testPerClass: 20);
        int steps = 0;
        var o = Options(1) with { BatchSize = 16, HoldoutFraction = 0.25, HoldoutSeed = 3 };
        using var g = new GenericTrainer(o, TestData.TempDir()).Train(data, new Steps(n => steps = n));
        // 4 classes × 48 training images (16 of 64 held out) in batches of 16.
        Assert.Equal(12, steps);
        Assert.Equal((0.25, 3), (g.Card.HoldoutFraction, g.Card.HoldoutSeed));
        var path = Path.Combine(TestData.TempDir(), "g");
        g.Save(path);
        using var loaded = GenericModel.Load(path);
        Assert.Equal(0.25, loaded.Card.HoldoutFraction);

        // The recipe search takes exactly the held-out images as its validation split, whatever fraction it is asked for.
        var result = Tina.Zoo.RecipeSearch.Run(loaded, data, [new Tina.Zoo.FineTuneOptions { Epochs = 1, BatchSize = 8 }], taskCount: 2,
            minClasses: 2, maxClasses: 3, validationFraction: 0.5, seed: 0);
        Assert.True(result.UnseenByGeneric);
        var heldOut = data.WithValidationSplit(0.25, 3).Test;
        using var selection = new Tina.Evaluation.ClassifierSelectionMethod(loaded, heldOut);
        Assert.Equal(Tina.Evaluation.PAcc.Evaluate(selection, result.Tasks, heldOut).Mean, result.ClassifierSelection, 6);
        Assert.Throws<TinaException>(() => new GenericTrainer(o with { HoldoutFraction = 1 }, TestData.TempDir()).Train(data));
    }

    private sealed class Steps(Action<int> set) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => set(p.Steps);
    }

    private sealed class Cancel(CancellationTokenSource cts, int epoch) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) { if (p.Epoch == epoch && p.Step == 2) cts.Cancel(); }
    }
}
