using Tina.Data;
using Tina.Evaluation;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Tasks;
using TorchSharp;

namespace Tina.Tests.Evaluation;

public class PAccTests
{
    private static ImageDataset Tiny()
    {
        // 6 test images: labels 0,1,2,3,0,1 over 4 classes.
        var labels = new[] { 0, 1, 2, 3, 0, 1 };
        var set = new ImageSet(new byte[labels.Length * ImageSet.ImageBytes], labels);
        return new ImageDataset("tiny", ["a", "b", "c", "d"], set, set);
    }

    /// <summary>Predicts from a fixed table: image index → dataset label.</summary>
    private sealed class Oracle(int[] labelOf) : IPersonalizationMethod
    {
        public string Name => "oracle";
        public int[] Predict(PersonalizationTask task, ImageSet test, int[] indices) => indices.Select(i => task.PositionOf(labelOf[i])).ToArray();
    }

    [Fact]
    public void RestrictsToTaskClassesAndRelabelsByPromptPosition()
    {
        var d = Tiny();
        var task = PersonalizationTask.FromNames(d, ["b", "a"]); // positions: b→0, a→1
        // Images of a/b are 0,1,4,5. Predict image 0 right, 1 right, 4 wrong (says b), 5 outside the task (says d).
        var oracle = new Oracle([0, 1, 2, 3, 1, 3]);
        Assert.Equal(50.0, PAcc.OfTask(oracle, task, d.Test));
        var perfect = new Oracle(d.Test.Labels);
        var r = PAcc.Evaluate(perfect, [task, PersonalizationTask.FromNames(d, ["c", "d", "a"])], d.Test);
        Assert.Equal(100.0, r.Mean);
        Assert.Equal(0.0, r.Std);
    }

    [Fact]
    public void BadClassListsGetClearErrors()
    {
        var d = Tiny();
        Assert.Contains("empty", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromNames(d, [])).Message);
        Assert.Contains("Duplicate", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromNames(d, ["a", "A"])).Message);
        Assert.Contains("'zebra'", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromNames(d, ["a", "zebra"])).Message);
        Assert.Contains("at most 2", Assert.Throws<InvalidPromptException>(() => PersonalizationTask.FromNames(d, ["a", "b", "c"], maxClasses: 2)).Message);
    }

    [Fact]
    public void SamplerIsDeterministicWithDistinctOrderedTasks()
    {
        var d = Fixtures.Cifar;
        var a = RandomTaskSampler.Sample(d, 50, 10, seed: 3);
        var b = RandomTaskSampler.Sample(d, 50, 10, seed: 3);
        var c = RandomTaskSampler.Sample(d, 50, 10, seed: 4);
        Assert.Equal(a.Select(t => t.Prompt), b.Select(t => t.Prompt));
        Assert.NotEqual(a.Select(t => t.Prompt), c.Select(t => t.Prompt));
        Assert.All(a, t => Assert.Equal(10, t.Classes.Distinct().Count()));
        Assert.Equal(50, a.Select(t => string.Join(",", t.Classes.Order())).Distinct().Count());
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void ClassifierSelectionPModelMatchesTheFastMethod(PModelArch arch)
    {
        var d = Fixtures.CifarSubset(classes: 20, perClass: 1, testPerClass: 20);
        var net = PModelNetwork.Create(arch, 20, seed: 5);
        using var generic = new GenericModel(net, new GenericModelCard { Arch = arch.ToName(), Dataset = d.Name, Classes = d.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 5, Optimizer = "none" });
        var task = new PersonalizationTask([7, 2, 11], ["7", "2", "11"]);
        using var fast = new ClassifierSelectionMethod(generic, d.Test);
        var p = ClassifierSelection.Create(generic, task);
        using var pnet = p.ToNetwork();
        var idx = d.Test.IndicesOf(task.Classes.ToHashSet());
        using var x = torch.tensor(Augmentation.Batch(d.Test, idx, Normalization.Mean, Normalization.Std, null), [idx.Length, 3, 32, 32]);
        using var logits = pnet.forward(x);
        var slow = logits.argmax(1).data<long>().Select(v => (int)v).ToArray();
        Assert.Equal(slow, fast.Predict(task, d.Test, idx));
    }

    [Fact]
    public void ResultsSplitByClassCount()
    {
        var d = Tiny();
        var tasks = new[] { PersonalizationTask.FromNames(d, ["b", "a"]), PersonalizationTask.FromNames(d, ["c", "d", "a"]), PersonalizationTask.FromNames(d, ["d", "c"]) };
        var r = new PAccResult("m", 50, 0, [40, 70, 60]);
        var by = r.ByClassCount(tasks);
        Assert.Equal([(2, 2, 50.0), (3, 1, 70.0)], by);
        Assert.Throws<ArgumentException>(() => r.ByClassCount(tasks[..2]));
    }
}
