using Tina.Evaluation;
using Tina.Generation;
using Tina.PModels;
using Tina.Tasks;
using Tina.Zoo;
using Xunit.Abstractions;

namespace Tina.Tests.Proof;

/// <summary>
/// Tests on <see cref="RealFixture"/> that the method works on real data: generated classifiers follow their prompt,
/// p-Acc is well above chance and near classifier selection, and the p-Acc machinery agrees with itself on real models.
/// </summary>
public class RealPipelineTests(ITestOutputHelper output)
{
    private static RealFixture.Built F => RealFixture.Value;

    private static IReadOnlyList<PersonalizationTask> HeldOutTasks => F.HeldOut.Select(e => e.AsTask()).ToList();

    private static float[] Row(PModel model, int r)
    {
        var w = model.Layout["fc.weight"];
        int f = (int)w.Shape[1];
        return model.Parameters.AsSpan(w.Offset + r * f, f).ToArray();
    }

    private static double Distance(float[] a, float[] b) => Math.Sqrt(a.Zip(b).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));

    [Fact]
    public void FixtureIsRealAndQuick()
    {
        foreach (var (stage, s) in F.Seconds) output.WriteLine($"{stage}: {s:F1} s");
        output.WriteLine($"generic top-1 {F.Generic.Card.TestAccuracy:F2} % ({RealFixture.Classes}-way); zoo mean p-Acc {F.Entries.Average(e => e.PAcc):F2} %");
        // The generic model learned something (20-way chance is 5 %) and the zoo has every class count 2…5.
        Assert.True(F.Generic.Card.TestAccuracy > 10, $"generic top-1 {F.Generic.Card.TestAccuracy}");
        double zooMean = F.Entries.Average(e => e.PAcc), chance = F.Entries.Average(e => 100.0 / e.Task.Names.Length);
        Assert.True(zooMean > chance + 12, $"zoo p-Acc {zooMean:F2} vs chance {chance:F2}");
        Assert.Equal([2, 3, 4, 5], F.Manifest.ClassCounts());
        Assert.True(F.Generator.State.Config.SharedSlots);
    }

    [Fact]
    public void GeneratedRowsAreNearestTheirOwnClass()
    {
        // Chance is 1/20: a generator that ignored its prompt could put a row near its own class only by luck.
        var (onTraining, onHeldOut) = RowsNearestTheirClass(F.Generator);
        Assert.Equal(RealFixture.Classes, onHeldOut.Classes);
        Assert.True(onTraining.HitRate >= 0.8, $"training lists: {onTraining.HitRate:P1}");
        Assert.True(onHeldOut.HitRate >= 0.8, $"held-out lists: {onHeldOut.HitRate:P1}");
    }

    [Fact]
    public void PermutingThePromptPermutesTheRows()
    {
        var (matched, rows, moved, stayed) = RotatedPrompts(F.Generator);
        Assert.True(matched >= 0.9 * rows, $"{matched} of {rows} rows follow their class");
        Assert.True(moved < 0.5 * stayed, $"distance to own class {moved / rows:F3} vs same position {stayed / rows:F3}");
    }

    [Fact]
    public void AGeneratorWhoseClassTokensCarryNothingFailsBothPromptFollowingChecks()
    {
        // The negative control, executed: same zoo, same training, every class text encoded to one vector. If the
        // checks above passed on it, they would not be measuring whether the generator follows its prompt.
        var (onTraining, onHeldOut) = RowsNearestTheirClass(RealFixture.Control);
        Assert.True(onTraining.HitRate < 0.5, $"training lists: {onTraining.HitRate:P1}");
        Assert.True(onHeldOut.HitRate < 0.5, $"held-out lists: {onHeldOut.HitRate:P1}");
        var (matched, rows, moved, stayed) = RotatedPrompts(RealFixture.Control);
        Assert.True(matched < 0.5 * rows, $"{matched} of {rows} rows follow their class");
        Assert.True(moved > stayed, $"distance to own class {moved / rows:F3} vs same position {stayed / rows:F3}");
    }

    [Fact]
    public void RotatingThePromptRotatesThePredictionsOnRealImages()
    {
        // On the held-out lists' test images: the classifier of the rotated prompt must name the same class for an
        // image as the original's (its index moved by one), for nearly every image.
        var prompts = F.HeldOut.Where(e => e.Task.Names.Length >= 3).Select(e => e.AsTask()).ToList();
        int images = 0, same = 0;
        foreach (var task in prompts)
        {
            var names = task.Names.ToArray();
            var rotated = PersonalizationTask.FromNames(F.Data, [.. names.Skip(1), names[0]]);
            using var tina = new TinaMethod(F.Generator, RealFixture.Generate);
            var indices = F.Data.Test.Labels.Select((label, i) => (label, i)).Where(x => task.Classes.Contains(x.label)).Select(x => x.i).ToArray();
            var a = tina.Predict(task, F.Data.Test, indices);
            var b = tina.Predict(rotated, F.Data.Test, indices);
            for (int i = 0; i < indices.Length; i++)
            {
                images++;
                if (rotated.Names[b[i]] == names[a[i]]) same++;
            }
        }
        output.WriteLine($"{same} of {images} images get the same class name from the rotated prompt");
        Assert.True(images > 100, $"{images} images");
        Assert.True(same >= 0.9 * images, $"{same} of {images} images keep their class name");
    }

    private (PromptFollowingReport OnTraining, PromptFollowingReport OnHeldOut) RowsNearestTheirClass(TinaGenerator generator)
    {
        var training = F.Training;
        var onTraining = PromptFollowing.Measure(generator, training, training.Take(24).ToList(), RealFixture.Generate);
        var onHeldOut = PromptFollowing.Measure(generator, training, F.HeldOut, RealFixture.Generate);
        output.WriteLine($"rows nearest their class: training lists {onTraining.HitRate:P1} of {onTraining.Rows}, held-out lists {onHeldOut.HitRate:P1} of {onHeldOut.Rows} (chance {1.0 / onHeldOut.Classes:P1})");
        return (onTraining, onHeldOut);
    }

    private (int Matched, int Rows, double Moved, double Stayed) RotatedPrompts(TinaGenerator generator)
    {
        // Each held-out list rotated by one: with the same seed, row k of the rotated prompt must be the original's
        // row of the same class. A generator ignoring its prompt gives the same rows for both (same noise), which
        // are then nearest the original row at the same position instead.
        var prompts = F.HeldOut.Where(e => e.Task.Names.Length >= 3).Select(e => e.Task.Names).ToList();
        var rotated = prompts.Select(p => p.Skip(1).Append(p[0]).ToArray()).ToList();
        int rows = 0, matched = 0;
        double moved = 0, stayed = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            var a = generator.Generate(prompts[i], RealFixture.Generate);
            var b = generator.Generate(rotated[i], RealFixture.Generate);
            int c = prompts[i].Length;
            for (int k = 0; k < c; k++)
            {
                var rowB = Row(b, k);
                int own = (k + 1) % c; // rotated[k] == prompts[own]
                var nearest = Enumerable.Range(0, c).MinBy(j => Distance(rowB, Row(a, j)));
                if (nearest == own) matched++;
                moved += Distance(rowB, Row(a, own));
                stayed += Distance(rowB, Row(a, k));
                rows++;
            }
        }
        output.WriteLine($"{matched} of {rows} rows follow their class; mean distance to the same class's row {moved / rows:F3}, to the same position's row {stayed / rows:F3}");
        return (matched, rows, moved, stayed);
    }

    [Fact]
    public void BatchedEvaluationPairsEachPromptWithItsOwnPModel()
    {
        var tasks = HeldOutTasks;
        using var batched = new TinaMethod(F.Generator, RealFixture.Generate);
        var together = PAcc.Evaluate(batched, tasks, F.Data.Test);
        // Without Prepare, TinaMethod generates each task's p-Model alone when it is asked to predict.
        using var single = new TinaMethod(F.Generator, RealFixture.Generate);
        var alone = tasks.Select(t => PAcc.OfTask(single, t, F.Data.Test)).ToArray();
        // Different noise (a batch draws [B, P] at once), so not the same bits; but the same class lists get p-Models
        // of the same quality task by task. A p-Model paired with another task's prompt would be far off.
        var diffs = together.PerTask.Zip(alone, (x, y) => Math.Abs(x - y)).ToArray();
        output.WriteLine($"batched {together.Mean:F2}, alone {alone.Average():F2}; per-task |Δ| mean {diffs.Average():F2}, max {diffs.Max():F2}");
        Assert.True(Math.Abs(together.Mean - alone.Average()) < 3, $"batched {together.Mean:F2} vs alone {alone.Average():F2}");
        Assert.True(diffs.Max() < 15, $"per-task |Δ| up to {diffs.Max():F2}: {string.Join(", ", diffs.Select(d => d.ToString("F1")))}");
    }

    [Fact]
    public void GeneratedClassifiersAreWellAboveChanceAndNearClassifierSelection()
    {
        var tasks = HeldOutTasks;
        double chance = tasks.Average(t => 100.0 / t.Count);
        using var tina = new TinaMethod(F.Generator, RealFixture.Generate);
        var generated = PAcc.Evaluate(tina, tasks, F.Data.Test);
        using var cs = new ClassifierSelectionMethod(F.Generic, F.Data.Test);
        var selection = PAcc.Evaluate(cs, tasks, F.Data.Test);
        var tuned = F.HeldOut.Average(e => e.PAcc);
        output.WriteLine($"held-out p-Acc: chance {chance:F2}, Tina {generated.Mean:F2}, classifier selection {selection.Mean:F2}, fine-tuned {tuned:F2}");
        // A prompt-ignoring generator, or one whose p-Models go to the wrong prompts, lands at or below chance here.
        Assert.True(generated.Mean > chance + 12, $"Tina {generated.Mean:F2} vs chance {chance:F2}");
        Assert.True(generated.Mean > selection.Mean - 5, $"Tina {generated.Mean:F2} vs classifier selection {selection.Mean:F2}");
    }

    [Fact]
    public void ClassifierSelectionIsFarAboveTheGenericModel()
    {
        var tasks = F.Entries.Select(e => e.AsTask()).ToList();
        var generic = PAcc.Evaluate(new GenericMethod(F.Generic, F.Data.Test), tasks, F.Data.Test);
        using var cs = new ClassifierSelectionMethod(F.Generic, F.Data.Test);
        var selection = PAcc.Evaluate(cs, tasks, F.Data.Test);
        output.WriteLine($"p-Acc over {tasks.Count} tasks: generic {generic.Mean:F2}, classifier selection {selection.Mean:F2} (generic top-1 {F.Generic.Card.TestAccuracy:F2})");
        // The generic model's argmax over all 20 classes is right about as often as its top-1 accuracy; restricted
        // to the task's 2–5 classes it must be right far more often.
        Assert.True(selection.Mean > generic.Mean + 20, $"classifier selection {selection.Mean:F2} vs generic {generic.Mean:F2}");
        Assert.InRange(generic.Mean, F.Generic.Card.TestAccuracy - 10, F.Generic.Card.TestAccuracy + 10);
    }

    [Fact]
    public void FineTunerPAccEqualsThePublicPAccOfTheSamePModel()
    {
        var method = new ZooHeadMethod(F.Entries, F.TestFeatures);
        foreach (var e in F.Entries)
        {
            var pacc = PAcc.OfTask(method, e.AsTask(), F.Data.Test);
            // The manifest rounds to 3 decimals.
            Assert.True(Math.Abs(pacc - e.PAcc) < 6e-4, $"task {e.Task.Index} ({e.AsTask().Prompt}): manifest {e.PAcc}, PAcc.OfTask {pacc}");
        }
        // Far from trivial: the heads differ from classifier selection and from each other in p-Acc.
        Assert.True(F.Entries.Select(e => e.PAcc).Distinct().Count() > 10);
    }

    [Fact]
    public void SplicingTheFineTunedClassifierOntoAGeneratedPModelScoresAsTheFineTunedOne()
    {
        // ResNet-20 p-Models share the frozen backbone, so a generated p-Model with its task's fine-tuned head is that
        // fine-tuned p-Model: the transform must reach every prediction (tina eval --splice tina/finetune).
        var byPrompt = F.HeldOut.ToDictionary(e => e.AsTask().Prompt);
        using var spliced = new TinaMethod(F.Generator, RealFixture.Generate, "spliced", transform: (task, generated) =>
            PModelSplice.Combine(generated, new PModel(generated.Arch, task.Names, byPrompt[task.Prompt].Parameters, generated.Frozen)));
        var tasks = HeldOutTasks;
        var result = PAcc.Evaluate(spliced, tasks, F.Data.Test);
        for (int i = 0; i < tasks.Count; i++)
            Assert.True(Math.Abs(result.PerTask[i] - byPrompt[tasks[i].Prompt].PAcc) < 6e-4, $"task {tasks[i].Prompt}: {result.PerTask[i]} vs fine-tuned {byPrompt[tasks[i].Prompt].PAcc}");
        using var tina = new TinaMethod(F.Generator, RealFixture.Generate);
        Assert.NotEqual(result.PerTask, PAcc.Evaluate(tina, tasks, F.Data.Test).PerTask);
    }
}
