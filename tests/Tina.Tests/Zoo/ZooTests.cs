using System.Diagnostics;
using Tina.Data;
using Tina.Generic;
using Tina.IO;
using Tina.MLNet.Errors;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Tasks;
using Tina.Zoo;
using TorchSharp;

namespace Tina.Tests.Zoo;

public class ZooTests
{
    private static readonly Lazy<ImageDataset> Data = new(() => Fixtures.CifarSubset(classes: 12, perClass: 48, testPerClass: 20));

    private static GenericModel Generic(PModelArch arch) => Fixtures.UntrainedGeneric(Data.Value, arch, seed: 11);

    private static ZooBuildOptions Options(int group) => new()
    {
        TrainTasks = 4, OodTasks = 2, ClassesPerTask = 4, Seed = 3,
        FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = group },
    };

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void ManyAtOnceEqualsOneAtATime(PModelArch arch)
    {
        using var generic = Generic(arch);
        var tasks = new TaskSampler(Data.Value, 4, seed: 5).Draw(3).Select((t, i) => (t.Task, Seed: 100 + i)).ToList();
        using var tuner = new FineTuner(generic, Data.Value, new FineTuneOptions { Epochs = 2, BatchSize = 16, ModelsPerGroup = 3 });
        var together = tuner.Train(tasks);
        var alone = tasks.Select(t => tuner.Train([t])[0]).ToList();
        for (int i = 0; i < tasks.Count; i++)
        {
            var maxDiff = together[i].Parameters.Zip(alone[i].Parameters).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(maxDiff < 1e-4, $"task {i}: max |Δw| = {maxDiff}");
            // Training moved the weights away from the classifier-selection start.
            var start = ClassifierSelection.Create(generic, tasks[i].Task).Parameters;
            Assert.True(start.Zip(alone[i].Parameters).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
        }
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void AGroupOfMixedClassCountsEqualsOneAtATime(PModelArch arch)
    {
        using var generic = Generic(arch);
        var sampler = new TaskSampler(Data.Value, minClasses: 2, maxClasses: 5, seed: 6);
        var tasks = sampler.Draw(4).Select((t, i) => (t.Task, Seed: 200 + i)).ToList();
        Assert.True(tasks.Select(t => t.Task.Count).Distinct().Count() > 1);
        using var tuner = new FineTuner(generic, Data.Value, new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 4 });
        var together = tuner.Train(tasks);
        for (int i = 0; i < tasks.Count; i++)
        {
            var alone = tuner.Train([tasks[i]])[0];
            Assert.Equal(ParameterLayout.For(arch, tasks[i].Task.Count).Count, together[i].Parameters.Length);
            var maxDiff = together[i].Parameters.Zip(alone.Parameters).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(maxDiff < 1e-4, $"task {i} ({tasks[i].Task.Count} classes): max |Δw| = {maxDiff}");
            Assert.Equal(alone.PAcc, together[i].PAcc, 6);
        }
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void L2SpKeepsPModelsNearerTheirStartAndStaysGroupable(PModelArch arch)
    {
        using var generic = Generic(arch);
        var tasks = new TaskSampler(Data.Value, minClasses: 2, maxClasses: 4, seed: 8).Draw(2).Select((t, i) => (t.Task, Seed: 300 + i)).ToList();
        var plain = new FineTuneOptions { Epochs = 5, BatchSize = 16, ModelsPerGroup = 2, LearningRate = 0.1 };
        using var free = new FineTuner(generic, Data.Value, plain);
        using var pulled = new FineTuner(generic, Data.Value, plain with { L2SP = 0.3 });
        var freeModels = free.Train(tasks);
        var pulledModels = pulled.Train(tasks);
        for (int i = 0; i < tasks.Count; i++)
        {
            var start = ClassifierSelection.Create(generic, tasks[i].Task).Parameters;
            double Distance(float[] w) => Math.Sqrt(w.Zip(start).Sum(p => (double)(p.First - p.Second) * (p.First - p.Second)));
            double d0 = Distance(freeModels[i].Parameters), d1 = Distance(pulledModels[i].Parameters);
            Assert.True(d1 > 0 && d1 < 0.8 * d0, $"task {i}: distance to the start {d1} with L2-SP against {d0} without");
            // The pull is elementwise per model, so a group still equals one at a time.
            var alone = pulled.Train([tasks[i]])[0];
            Assert.True(alone.Parameters.Zip(pulledModels[i].Parameters).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        }
        Assert.Throws<TinaException>(() => new FineTuner(generic, Data.Value, plain with { L2SP = -1 }));
    }

    [Fact]
    public void ABodyRateShareOfZeroKeepsTheConvolutionsAndStaysGroupable()
    {
        using var generic = Generic(PModelArch.Cnn5k);
        var tasks = new TaskSampler(Data.Value, minClasses: 2, maxClasses: 4, seed: 9).Draw(2).Select((t, i) => (t.Task, Seed: 400 + i)).ToList();
        var options = new FineTuneOptions { Epochs = 2, BatchSize = 16, ModelsPerGroup = 2, LearningRate = 0.1, BodyLearningRateScale = 0 };
        using var tuner = new FineTuner(generic, Data.Value, options);
        var models = tuner.Train(tasks);
        for (int i = 0; i < tasks.Count; i++)
        {
            var layout = ParameterLayout.For(PModelArch.Cnn5k, tasks[i].Task.Count);
            int body = layout["fc.weight"].Offset;
            var start = ClassifierSelection.Create(generic, tasks[i].Task).Parameters;
            // Weight decay is part of the gradient, so a zero share keeps the convolutions exactly; the classifier moves.
            Assert.Equal(start[..body], models[i].Parameters[..body]);
            Assert.True(start[body..].Zip(models[i].Parameters[body..]).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
            var alone = tuner.Train([tasks[i]])[0];
            Assert.True(alone.Parameters.Zip(models[i].Parameters).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        }
        Assert.Throws<TinaException>(() => new FineTuner(generic, Data.Value, options with { BodyLearningRateScale = -0.5 }));
    }

    [Fact]
    public void HeadsOnAugmentedViewsAreSeededGroupableAndDifferFromPlainFeatures()
    {
        using var generic = Generic(PModelArch.ResNet20);
        var data = Data.Value;
        var tasks = new TaskSampler(data, 4, seed: 8).Draw(3).Select((t, i) => (t.Task, Seed: 300 + i)).ToList();
        var (train, test) = FineTuner.HeadFeatures(generic, data, augmentedViews: 3);
        using (train)
        using (test)
        {
            Assert.Equal(3L * data.Train.Count, train.shape[0]);
            // Views are augmented: each differs from the others and from the plain images' features.
            using var plain = Tina.PModels.Accuracy.Features(generic.Network, data.Train);
            var n = data.Train.Count;
            for (int v = 0; v < 3; v++)
                Assert.True(train.narrow(0, (long)v * n, n).sub(plain).abs().max().item<float>() > 1e-3, $"view {v} equals the plain features");
            var options = new FineTuneOptions { Epochs = 2, BatchSize = 16, ModelsPerGroup = 3, AugmentedViews = 3 };
            using var tuner = new FineTuner(generic, data, options, (train, test));
            var together = tuner.Train(tasks);
            var alone = tasks.Select(t => tuner.Train([t])[0]).ToList();
            using var plainTuner = new FineTuner(generic, data, options with { AugmentedViews = 0 });
            var withoutViews = plainTuner.Train(tasks);
            for (int i = 0; i < tasks.Count; i++)
            {
                Assert.True(together[i].Parameters.Zip(alone[i].Parameters).Max(p => Math.Abs(p.First - p.Second)) < 1e-4, $"task {i}: group ≠ alone");
                Assert.True(together[i].Parameters.Zip(withoutViews[i].Parameters).Max(p => Math.Abs(p.First - p.Second)) > 1e-4, $"task {i}: views changed nothing");
            }
            // Features made for another number of views are refused with a clear error.
            var error = Assert.Throws<TinaException>(() => new FineTuner(generic, data, options with { AugmentedViews = 2 }, (train, test)));
            Assert.Contains("augmented views", error.Message);
        }
        // The same views are rebuilt bit for bit (a new process, a shard on another machine).
        var (again, againTest) = FineTuner.HeadFeatures(generic, data, augmentedViews: 3);
        using (again) using (againTest)
        {
            var (first, firstTest) = FineTuner.HeadFeatures(generic, data, augmentedViews: 3);
            using (first) using (firstTest) Assert.Equal(first.data<float>().ToArray(), again.data<float>().ToArray());
        }
    }

    [Fact]
    public void AZooWithHeldOutClassesKeepsThemOutOfTrainingAndSplitsOodByUnseenShare()
    {
        using var generic = Generic(PModelArch.ResNet20);
        var dir = TestData.TempDir();
        var options = Options(group: 4) with { ClassesPerTask = 4, MinClassesPerTask = 2, TrainTasks = 6, OodTasks = 8, UnseenClassFraction = 1.0 / 3 };
        var m = new ZooBuilder(generic, "generic", Data.Value, options).Build(dir);
        var held = m.UnseenClasses!;
        Assert.Equal(4, held.Length); // a third of the fixture's 12 classes
        Assert.All(m.Tasks.Where(t => t.Split == "train"), t => Assert.DoesNotContain(t.Classes, c => held.Contains(c)));
        var ood = m.Tasks.Where(t => t.Split == "ood").ToList();
        Assert.Equal([0.0, 0.2, 0.5, 1.0], ood.Select(t => t.UnseenRatio!.Value).Distinct());
        Assert.All(ood, t => Assert.Equal(TaskSampler.UnseenCount(t.Classes.Length, t.UnseenRatio!.Value), t.Classes.Count(c => held.Contains(c))));
        // The list survives a reload, and a build asked with another share is refused.
        Assert.Equal(held, ZooManifest.Load(dir).UnseenClasses);
        Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, options with { UnseenClassFraction = 0.5 }).Build(dir));
        // Without held-out classes the manifest has no list and no task a ratio.
        var plain = new ZooBuilder(generic, "generic", Data.Value, options with { UnseenClassFraction = 0, TrainTasks = 2, OodTasks = 1 }).Build(TestData.TempDir());
        Assert.Null(plain.UnseenClasses);
        Assert.All(plain.Tasks, t => Assert.Null(t.UnseenRatio));
    }

    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void AValidationZooFineTunesWithoutItsValidationImagesAndScoresOnThem(PModelArch arch)
    {
        using var generic = Generic(arch);
        var options = Options(group: 3) with { ValidationFraction = 0.25 };
        var dir = TestData.TempDir();
        var m = new ZooBuilder(generic, "generic", Data.Value, options).Build(dir);
        Assert.Equal(new ValidationSplit(0.25, options.Seed), m.Validation);
        Assert.Equal(m.Validation, ZooManifest.Load(dir).Validation);
        // Byte for byte the zoo built on the dataset whose training split lacks the validation images and whose test
        // split is them: fine-tuned on the rest, scored on the validation images, the same tasks.
        var split = m.Validation!.Apply(Data.Value);
        Assert.Equal(Data.Value.Train.Count - split.Test.Count, split.Train.Count);
        var referenceDir = TestData.TempDir();
        var reference = new ZooBuilder(generic, "generic", split, options with { ValidationFraction = 0 }).Build(referenceDir);
        Assert.Null(reference.Validation);
        Assert.Equal(reference.Tasks.Select(t => t.Classes), m.Tasks.Select(t => t.Classes));
        Assert.Equal(reference.Shards.SelectMany(s => s.PAcc), m.Shards.SelectMany(s => s.PAcc));
        Assert.Equal(ZooReader.ReadAll(referenceDir, out _).Select(e => e.Parameters), ZooReader.ReadAll(dir, out _).Select(e => e.Parameters));
        // The usual zoo (every training image) differs.
        var full = new ZooBuilder(generic, "generic", Data.Value, options with { ValidationFraction = 0 }).Build(TestData.TempDir());
        Assert.NotEqual(full.Shards.SelectMany(s => s.PAcc), m.Shards.SelectMany(s => s.PAcc));
        // A resume asked with another share, or without one, is refused; a share outside [0, 1) is refused up front.
        var refused = Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, options with { ValidationFraction = 0.2 }).Build(dir));
        Assert.Contains("validation split", refused.Message);   // the refusal names the zoo's recipe and split
        Assert.Contains("(seed 3)", refused.Message);
        Assert.Contains("LearningRate", refused.Message);
        Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, options with { ValidationFraction = 0 }).Build(dir));
        foreach (var bad in new[] { -0.1, 1.0, double.NaN })
            Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, options with { ValidationFraction = bad }));
    }

    [Fact]
    public void AZooOfMixedClassCountsStoresTheLargestLayoutAndReadsEachBack()
    {
        using var generic = Generic(PModelArch.ResNet20);
        var dir = TestData.TempDir();
        var options = Options(group: 3) with { ClassesPerTask = 5, MinClassesPerTask = 2, TrainTasks = 8, OodTasks = 4 };
        var m = new ZooBuilder(generic, "generic", Data.Value, options).Build(dir);
        Assert.Equal(2, m.MinClassesPerTask);
        Assert.Equal([2, 3, 4, 5], m.ClassCounts());
        Assert.Equal(ParameterLayout.For(PModelArch.ResNet20, 5).Count, m.ParameterCount);
        var entries = ZooReader.ReadAll(dir, out _);
        Assert.Equal(12, entries.Count);
        foreach (var e in entries)
        {
            Assert.Equal(ParameterLayout.For(PModelArch.ResNet20, e.Task.Names.Length).Count, e.Parameters.Length);
            // Each p-Model moved away from its classifier-selection start, row by row.
            var start = ClassifierSelection.Create(generic, e.AsTask()).Parameters;
            Assert.True(start.Zip(e.Parameters).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
        }
        // The same zoo asked for with another class range is refused.
        Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, options with { MinClassesPerTask = 3 }).Build(dir));
    }

    [Fact]
    public void KilledBuildResumesWithoutLosingOrRedoingShards()
    {
        using var generic = Generic(PModelArch.Cnn5k);
        var dir = TestData.TempDir();
        using var cts = new CancellationTokenSource();
        var stopAfterFirstShard = new StopAfter(cts, done: 2);
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new ZooBuilder(generic, "generic", Data.Value, Options(group: 2)).Build(dir, stopAfterFirstShard, cts.Token));
        var partial = ZooManifest.Load(dir);
        Assert.Single(partial.Shards);
        var firstShard = Path.Combine(dir, partial.Shards[0].File);
        var before = File.GetLastWriteTimeUtc(firstShard);
        // A torn temp file from the kill must not confuse the rerun.
        File.WriteAllText(Path.Combine(dir, ".shard-000002.safetensors.123.tmp"), "torn");

        var resumed = new ZooBuilder(generic, "generic", Data.Value, Options(group: 2)).Build(dir);
        Assert.Equal(3, resumed.Shards.Count);
        Assert.Equal(before, File.GetLastWriteTimeUtc(firstShard));

        var straight = new ZooBuilder(generic, "generic", Data.Value, Options(group: 2)).Build(TestData.TempDir());
        var a = ZooReader.ReadAll(dir, out _);
        var b = ZooReader.ReadAll(Path.Combine(Path.GetDirectoryName(dir)!, Path.GetFileName(dir)), out _);
        Assert.Equal(6, a.Count);
        Assert.Equal(straight.Shards.SelectMany(s => s.PAcc), resumed.Shards.SelectMany(s => s.PAcc));
        Assert.Equal(4, resumed.Tasks.Count(t => t.Split == "train"));
        Assert.Equal(2, resumed.Tasks.Count(t => t.Split == "ood"));
        Assert.All(a, e => Assert.Equal(ParameterLayout.For(PModelArch.Cnn5k, 4).Count, e.Parameters.Length));

        // Other settings in the same folder are refused instead of mixing two zoos.
        Assert.Throws<TinaException>(() => new ZooBuilder(generic, "generic", Data.Value, Options(group: 2) with { Seed = 4 }).Build(dir));
    }

    [Fact]
    public void ShardsAreReadableFromPython()
    {
        using var generic = Generic(PModelArch.ResNet20);
        var dir = TestData.TempDir();
        var m = new ZooBuilder(generic, "generic", Data.Value, Options(group: 6)).Build(dir);
        var shard = Path.Combine(dir, m.Shards[0].File);
        var expected = ZooReader.ReadAll(dir, out _)[5].Parameters;
        // Parse the safetensors file with Python's standard library only (struct + json): header, dtype, shape, offsets.
        var script = "import json,struct,sys\nb=open(sys.argv[1],'rb').read()\nn=struct.unpack('<Q',b[:8])[0]\nh=json.loads(b[8:8+n])\nt=h['parameters']\n" +
                     "assert t['dtype']=='F32'\nrows,cols=t['shape']\ns,e=t['data_offsets']\nv=struct.unpack('<%df'%(rows*cols),b[8+n+s:8+n+e])\nprint(rows,cols,repr(v[5*cols]),repr(v[6*cols-1]))";
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script); psi.ArgumentList.Add(shard);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd().Trim().Split(' ');
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        Assert.Equal(["6", "260"], output[..2]);  // 6 heads of 64·4 + 4 parameters
        Assert.Equal(expected[0], float.Parse(output[2], System.Globalization.CultureInfo.InvariantCulture), 6);
        Assert.Equal(expected[^1], float.Parse(output[3], System.Globalization.CultureInfo.InvariantCulture), 6);
    }

    [Fact]
    public void SafeTensorsRoundTripKeepsOrderShapesAndMetadata()
    {
        var path = Path.Combine(TestData.TempDir(), "x.safetensors");
        SafeTensors.Save(path, [new("b", new NamedTensor([2, 3], [1, 2, 3, 4, 5, 6])), new("a", new NamedTensor([1], [float.NaN]))], new Dictionary<string, string> { ["k"] = "v" });
        var (t, meta) = SafeTensors.Load(path);
        Assert.Equal(["b", "a"], t.Keys);
        Assert.Equal([2L, 3L], t["b"].Shape);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t["b"].Data);
        Assert.True(float.IsNaN(t["a"].Data[0]));
        Assert.Equal("v", meta["k"]);
    }

    private sealed class StopAfter(CancellationTokenSource cts, int done) : IProgress<ZooProgress>
    {
        public void Report(ZooProgress p) { if (p.Done >= done) cts.Cancel(); }
    }
}
