using Tina.Data;
using Tina.Evaluation;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Taper;
using Tina.Tasks;
using Tina.Tests.Generation;

namespace Tina.Tests.Taper;

public class TaperMixerTests
{
    private static readonly Lazy<ImageDataset> Data = new(() => Fixtures.CifarSubset(classes: 12, perClass: 48, testPerClass: 20));

    private static GenericModel Generic(PModelArch arch) => Fixtures.UntrainedGeneric(Data.Value, arch, seed: 11);

    private static TaperMixerOptions Options => new() { ExpertEpochs = 5, MixerEpochs = 5, BatchSize = 16, TasksPerStep = 4, Hidden = 32, Seed = 2 };

    [Fact]
    public void ExpertsSplitTheTrainingClassesAndTheMixedPModelsWorkOnHeldOutTasks()
    {
        // The real pipeline's briefly trained ResNet-20 and its zoo's training tasks: the features carry information.
        var real = Tina.Tests.Proof.RealFixture.Value;
        var generic = real.Generic;
        var data = real.Data;
        var tasks = real.Training.Select(e => e.AsTask()).ToList();
        using var text = new HashTextEncoder();
        using var taper = TaperMixer.Train(generic, data, tasks, text, Options);

        // Two disjoint shards covering exactly the training tasks' classes, dealt evenly.
        var classes = tasks.SelectMany(t => t.Classes).Distinct().Order().ToArray();
        Assert.Equal(2, taper.Shards.Count);
        Assert.Empty(taper.Shards[0].Intersect(taper.Shards[1]));
        Assert.Equal(classes, taper.Shards.SelectMany(s => s).Order());
        Assert.InRange(taper.Shards[0].Length - taper.Shards[1].Length, -1, 1);

        // The mixer was trained away from its start (the plain average of the experts); its weights are softmaxes.
        var w = taper.MixingWeights(tasks[0]);
        Assert.All(w, row => Assert.Equal(1.0, row.Sum(), 4));
        Assert.Contains(w, row => Math.Abs(row[0] - 0.5) > 1e-3);

        // The p-Model: the task's labels, the head layout, deterministic for a seed, and Predict agrees with it.
        var task = tasks[0];
        var p = taper.Create(task);
        Assert.Equal(task.Names, p.Labels);
        Assert.Equal(ParameterLayout.For(PModelArch.ResNet20, task.Count).Count, p.Parameters.Length);
        using (var again = TaperMixer.Train(generic, data, tasks, text, Options))
            Assert.Equal(p.Parameters, again.Create(task).Parameters);
        var idx = data.Test.IndicesOf(task.Classes.ToHashSet());
        var predicted = taper.Predict(task, data.Test, idx);
        Assert.All(predicted, x => Assert.InRange(x, 0, task.Count - 1));
        // On the held-out tasks it is a working personalization method, near classifier selection.
        var heldOut = real.HeldOut.Select(e => e.AsTask()).ToList();
        double taperPAcc = PAcc.Evaluate(taper, heldOut, data.Test).Mean;
        using var selection = new ClassifierSelectionMethod(generic, data.Test);
        double cs = PAcc.Evaluate(selection, heldOut, data.Test).Mean;
        Assert.True(taperPAcc > cs - 5 && taperPAcc > 100.0 / 2.5, $"TAPER-Mixer {taperPAcc:F2}, classifier selection {cs:F2}");
    }

    [Fact]
    public void CnnExpertsTrainWholeNetworksAndBadOptionsAreRefused()
    {
        using var generic = Generic(PModelArch.Cnn5k);
        var data = Data.Value;
        var tasks = new TaskSampler(data, 3, seed: 4).Draw(8).Select(t => t.Task).ToList();
        using var text = new HashTextEncoder();
        using var taper = TaperMixer.Train(generic, data, tasks, text, Options with { ExpertEpochs = 1, MixerEpochs = 1 });
        var p = taper.Create(tasks[0]);
        Assert.Equal(ParameterLayout.For(PModelArch.Cnn5k, 3).Count, p.Parameters.Length);
        // The convolutions are a mix of fine-tuned experts, so they moved away from the generic model's.
        var start = ClassifierSelection.Create(generic, tasks[0]).Parameters;
        var conv = p.Layout["conv1.weight"];
        Assert.True(Enumerable.Range(conv.Offset, conv.Length).Max(i => Math.Abs(p.Parameters[i] - start[i])) > 1e-4);
        Assert.All(taper.Predict(tasks[0], data.Test, data.Test.IndicesOf(tasks[0].Classes.ToHashSet())), x => Assert.InRange(x, 0, 2));

        Assert.Throws<TinaException>(() => TaperMixer.Train(generic, data, tasks, text, Options with { Experts = 1 }));
        // The mixer embeds the texts it is given for the classes (e.g. descriptions), not the names: the test encoder
        // refuses words with "zzz".
        var e = Assert.Throws<InvalidPromptException>(() => TaperMixer.Train(generic, data, tasks, text, Options with { ExpertEpochs = 1, MixerEpochs = 1 }, textOf: n => $"zzz {n}"));
        Assert.Contains("zzz", e.Message);
        Assert.Throws<TinaException>(() => TaperMixer.Train(generic, data, [], text, Options));
    }
}
