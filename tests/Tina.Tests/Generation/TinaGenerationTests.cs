using Tina.Diffusion;
using Tina.Evaluation;
using Tina.Generation;
using Tina.Generic;
using Tina.IO;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Export;
using Tina.MLNet.IO;
using Tina.PModels;
using Tina.Zoo;
using Xunit.Abstractions;

namespace Tina.Tests.Generation;

public class TinaGenerationTests(ITestOutputHelper output)
{
    private static readonly string[] Prompt = ["apple", "bear", "bicycle"];

    [Fact]
    public void TrainsWritesCheckpointAndLossCurve()
    {
        var dir = GenerationFixture.CheckpointDir;
        var state = TinaCheckpoint.Load(dir);
        Assert.Equal(GenerationFixture.Epochs, state.Epoch);
        Assert.Equal(GenerationFixture.Epochs, state.EpochLoss.Count);
        Assert.Equal(2, state.StepsPerEpoch);            // 8 training p-Models, batch 4
        Assert.Equal("test-hash-16d", state.TextEncoderId);
        Assert.False(state.PadFromEncoder);               // '<->' has no word: zero row
        Assert.Equal(SequencePadding.PadToken, state.TextNames[^1]);
        Assert.Equal(GenerationFixture.ZooDir, state.ZooPath);
        Assert.True(File.Exists(Path.Combine(dir, state.WeightsFile)));
        Assert.Single(Directory.GetFiles(dir, "weights-e*.safetensors"));
        var csv = File.ReadAllLines(Path.Combine(dir, TinaCheckpoint.LossFile));
        Assert.Equal("epoch,loss", csv[0]);
        Assert.Equal(GenerationFixture.Epochs + 1, csv.Length);
        Assert.All(state.EpochLoss, l => Assert.True(double.IsFinite(l)));
        Assert.True(state.EpochLoss[^1] < state.EpochLoss[0], $"loss did not fall: {string.Join(", ", state.EpochLoss.Select(l => l.ToString("F4")))}");
        output.WriteLine($"loss per epoch: {string.Join(", ", state.EpochLoss.Select(l => l.ToString("F4")))}; {state.Seconds:F1} s");
    }

    [Fact]
    public void KilledRunResumesToTheSameWeights()
    {
        const int epochs = 4;
        var straight = GenerationFixture.Train(Path.Combine(TestData.TempDir(), "straight"), epochs);
        var killed = Path.Combine(TestData.TempDir(), "killed");
        using var cts = new CancellationTokenSource();
        var stop = new StopAt(cts, epoch: 3, step: 1);
        Assert.ThrowsAny<OperationCanceledException>(() => GenerationFixture.Train(killed, epochs, stop, cts.Token));
        Assert.Equal(2, TinaCheckpoint.Load(killed).Epoch);
        // A torn temp file from the kill must not confuse the rerun.
        File.WriteAllText(Path.Combine(killed, ".state.json.1.tmp"), "torn");
        GenerationFixture.Train(killed, epochs);

        var a = TinaCheckpoint.Load(straight);
        var b = TinaCheckpoint.Load(killed);
        Assert.Equal(a.EpochLoss, b.EpochLoss);
        var (ta, _) = SafeTensors.Load(Path.Combine(straight, a.WeightsFile));
        var (tb, _) = SafeTensors.Load(Path.Combine(killed, b.WeightsFile));
        Assert.Equal(ta.Keys, tb.Keys);
        foreach (var k in ta.Keys) Assert.True(ta[k].Data.AsSpan().SequenceEqual(tb[k].Data), $"tensor {k} differs after resume");

        // Checkpointing every 3 epochs (a resume-neutral setting) ends with the same weights.
        var sparse = Path.Combine(TestData.TempDir(), "sparse");
        using (var e3 = new HashTextEncoder())
            new TinaTrainer(GenerationFixture.Options(epochs) with { CheckpointEvery = 3 }, e3).Train(GenerationFixture.ZooDir, sparse);
        var (tc, _) = SafeTensors.Load(Path.Combine(sparse, TinaCheckpoint.Load(sparse).WeightsFile));
        foreach (var k in ta.Keys) Assert.True(ta[k].Data.AsSpan().SequenceEqual(tc[k].Data), $"tensor {k} differs with sparse checkpoints");

        // Other settings in the same folder are refused.
        using var enc = new HashTextEncoder();
        Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(epochs) with { Seed = 9 }, enc).Train(GenerationFixture.ZooDir, killed));
    }

    [Fact]
    public void SameSeedGivesIdenticalWeights()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var a = gen.Generate(Prompt, new GenerateOptions { Seed = 3 });
        var b = gen.Generate(Prompt, new GenerateOptions { Seed = 3 });
        var c = gen.Generate(Prompt, new GenerateOptions { Seed = 4 });
        Assert.Equal(Prompt, a.Labels);
        Assert.Equal(ParameterLayout.For(PModelArch.Cnn5k, 3).Count, a.Parameters.Length);
        Assert.True(a.Parameters.AsSpan().SequenceEqual(b.Parameters));
        Assert.False(a.Parameters.AsSpan().SequenceEqual(c.Parameters));
        Assert.All(a.Parameters, v => Assert.True(float.IsFinite(v)));
        // DDPM and the raw weights work too, and are seed-deterministic.
        var d1 = gen.Generate(Prompt, new GenerateOptions { Sampler = DiffusionSampler.Ddpm, Steps = 100, Seed = 3, UseEma = false });
        var d2 = gen.Generate(Prompt, new GenerateOptions { Sampler = DiffusionSampler.Ddpm, Steps = 100, Seed = 3, UseEma = false });
        Assert.True(d1.Parameters.AsSpan().SequenceEqual(d2.Parameters));
        // A batch gives one p-Model per prompt, each with its own class count; names in other case/spacing are accepted.
        var batch = gen.Generate([Prompt, ["Aquarium Fish", "bear"], ["bed", "bee", "beetle", "bottle", "bowl", "boy", "baby", "beaver", "apple", "bear"]], new GenerateOptions { Seed = 1 });
        Assert.Equal([3, 2, 10], batch.Select(m => m.Labels.Count));
        Assert.Equal("Aquarium Fish", batch[1].Labels[0]);
    }

    [Fact]
    public void NeuronPermutationAblationTrainsCnnZoosAndIsRefusedForResNetHeads()
    {
        using var encoder = new HashTextEncoder();
        var plain = Path.Combine(TestData.TempDir(), "plain");
        var permuted = Path.Combine(TestData.TempDir(), "permuted");
        new TinaTrainer(GenerationFixture.Options(1), encoder).Train(GenerationFixture.ZooDir, plain);
        new TinaTrainer(GenerationFixture.Options(1) with { NeuronPermutation = true }, encoder).Train(GenerationFixture.ZooDir, permuted);
        var a = TinaCheckpoint.Load(plain);
        var b = TinaCheckpoint.Load(permuted);
        Assert.True(b.Options.NeuronPermutation);
        Assert.True(double.IsFinite(b.EpochLoss[0]));
        Assert.NotEqual(a.EpochLoss[0], b.EpochLoss[0]);   // the permuted p-Models are other training targets

        var resnetZoo = Path.Combine(Path.GetDirectoryName(ResNetGenerationFixture.CheckpointDir)!, "zoo");
        var e = TinaAssert.ThrowsTinaError(() => new TinaTrainer(GenerationFixture.Options(1) with { NeuronPermutation = true }, encoder)
            .Train(resnetZoo, Path.Combine(TestData.TempDir(), "resnet")));
        Assert.Contains("hidden neurons", e.Message);
    }

    [Fact]
    public void MergedTextTokenAblationLosesTheClassOrder()
    {
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(TestData.TempDir(), "merged");
        var options = GenerationFixture.Options(1) with { Tokens = TokenLayout.MergedTextRows };
        new TinaTrainer(options, encoder).Train(GenerationFixture.ZooDir, dir);
        using var gen = TinaGenerator.Load(dir, encoder);
        Assert.True(gen.State.Config.MergedTextToken);
        // One text token, the mean of the classes: a reordered prompt conditions the same, so the rows cannot follow it.
        var a = gen.Generate(["apple", "bed", "bee"], new GenerateOptions { Steps = 10, Seed = 2 });
        var b = gen.Generate(["bee", "bed", "apple"], new GenerateOptions { Steps = 10, Seed = 2 });
        Assert.True(a.Parameters.Zip(b.Parameters).Max(p => Math.Abs(p.First - p.Second)) < 1e-4);
        // With one token per class (the fixture's generator) the same reordering changes the classifier.
        using var perClass = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var c = perClass.Generate(["apple", "bed", "bee"], new GenerateOptions { Steps = 10, Seed = 2 });
        var d = perClass.Generate(["bee", "bed", "apple"], new GenerateOptions { Steps = 10, Seed = 2 });
        Assert.True(c.Parameters.Zip(d.Parameters).Max(p => Math.Abs(p.First - p.Second)) > 1e-3);
    }

    [Fact]
    public void ACheckpointWithTheOldTokenSwitchesLoadsIntoTheLayout()
    {
        // Before TokenLayout the config and the options stored classifierRowTokens / sharedSlots / mergedTextToken.
        var dir = TestData.TempDir();
        foreach (var f in Directory.GetFiles(GenerationFixture.CheckpointDir)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var statePath = Path.Combine(dir, TinaCheckpoint.StateFile);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!;
        Assert.Equal("SharedSlots", (string?)json["config"]!["tokens"]);
        foreach (var part in new[] { "config", "options" })
        {
            var o = json[part]!.AsObject();
            o.Remove("tokens");
            o["classifierRowTokens"] = true;
            o["sharedSlots"] = true;
            o["mergedTextToken"] = false;
        }
        File.WriteAllText(statePath, json.ToJsonString());
        var state = TinaCheckpoint.Load(dir);
        Assert.Equal(TokenLayout.SharedSlots, state.Config.Tokens);
        Assert.Equal(TokenLayout.SharedSlots, state.Options.Tokens);
        using var gen = TinaGenerator.Load(dir);
        using var fixture = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Steps = 5, Seed = 1 };
        Assert.True(gen.Generate(Prompt, options).Parameters.AsSpan().SequenceEqual(fixture.Generate(Prompt, options).Parameters));
        // A combination no transformer had is a corrupt state.
        json["config"]!["classifierRowTokens"] = false;
        File.WriteAllText(statePath, json.ToJsonString());
        Assert.Throws<CorruptFileException>(() => TinaCheckpoint.Load(dir));
    }

    [Fact]
    public void WithoutSequencePaddingOnlyFullLengthTasksAreTrainedOn()
    {
        // A zoo of 2-4-class tasks: without padding only its 4-class tasks (4 = the generator's class slots) are used.
        var data = Fixtures.CifarSubset(classes: 12, perClass: 16, testPerClass: 4);
        using var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, seed: 11),
            new GenericModelCard { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 11, Optimizer = "none" });
        var zoo = Path.Combine(TestData.TempDir(), "mixed-zoo");
        var manifest = new ZooBuilder(generic, "generic", data, new ZooBuildOptions
        {
            TrainTasks = 9, OodTasks = 0, ClassesPerTask = 4, MinClassesPerTask = 2, Seed = 3,
            FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 9 },
        }).Build(zoo);
        int full = manifest.Tasks.Count(t => t.Split == "train" && t.Names.Length == 4);
        Assert.InRange(full, 1, 8);
        using var encoder = new HashTextEncoder();
        var options = GenerationFixture.Options(1) with { MaxClasses = 4, ClassificationSequencePadding = false, VaryClassCountProbability = 0 };
        var dir = Path.Combine(TestData.TempDir(), "nopad");
        new TinaTrainer(options, encoder).Train(zoo, dir);
        var state = TinaCheckpoint.Load(dir);
        Assert.Equal(full, state.TrainModels);
        Assert.False(state.Options.ClassificationSequencePadding);
        // With padding every task is used; a zoo without full-length tasks, or random prefixes without padding, are refused.
        var padded = Path.Combine(TestData.TempDir(), "pad");
        new TinaTrainer(options with { ClassificationSequencePadding = true }, encoder).Train(zoo, padded);
        Assert.Equal(9, TinaCheckpoint.Load(padded).TrainModels);
        var none = Assert.Throws<TinaException>(() => new TinaTrainer(options with { MaxClasses = 10 }, encoder).Train(zoo, Path.Combine(TestData.TempDir(), "none")));
        Assert.Contains("tasks of 10 classes", none.Message);
        var vary = Assert.Throws<TinaException>(() => (options with { VaryClassCountProbability = 0.5 }).Validate());
        Assert.Contains("sequence padding", vary.Message);
    }

    [Fact]
    public void ResumingWithOtherClassTextsIsRefused()
    {
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(TestData.TempDir(), "texts");
        var texts = new Dictionary<string, string> { ["apple"] = "red fruit" };
        new TinaTrainer(GenerationFixture.Options(1) with { ClassTexts = texts }, encoder).Train(GenerationFixture.ZooDir, dir);
        // Same options (the texts file is not one of them), other texts: refused.
        var e = Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(1), encoder).Train(GenerationFixture.ZooDir, dir));
        Assert.Contains("other class texts", e.Message);
        e = Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(1) with { ClassTexts = new Dictionary<string, string> { ["apple"] = "green fruit" } }, encoder)
            .Train(GenerationFixture.ZooDir, dir));
        Assert.Contains("other class texts", e.Message);
        // The same texts resume (here: nothing left to do).
        var resumed = new TinaTrainer(GenerationFixture.Options(1) with { ClassTexts = texts }, encoder).Train(GenerationFixture.ZooDir, dir);
        Assert.Equal((1, 1), (resumed.ResumedFromEpoch, resumed.EpochLoss.Count));
    }

    [Fact]
    public void GenerateEachGivesEveryPromptTheSampleOfItsOwnSeed()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        IReadOnlyList<string>[] prompts = [Prompt, ["bear", "apple"], ["bicycle", "bed", "bee", "beetle"]];
        long[] seeds = [5, 6, 7];
        var batch = gen.GenerateEach(prompts, seeds, new GenerateOptions { Steps = 20 });
        double worst = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var alone = gen.Generate(prompts[i], new GenerateOptions { Steps = 20, Seed = seeds[i] });
            Assert.Equal(alone.Labels, batch[i].Labels);
            worst = Math.Max(worst, alone.Parameters.Zip(batch[i].Parameters).Max(p => Math.Abs(p.First - p.Second)));
        }
        // Not bit-identical: MKL rounds matrix products over several rows differently (measured: 2.9e-7 here).
        Assert.True(worst < 1e-4, $"a batched prompt differs from the same prompt and seed alone by {worst:E2}");
        // Deterministic batch to batch, and different seeds differ.
        var again = gen.GenerateEach(prompts, seeds, new GenerateOptions { Steps = 20 });
        for (int i = 0; i < prompts.Length; i++) Assert.True(batch[i].Parameters.AsSpan().SequenceEqual(again[i].Parameters));
        Assert.False(batch[0].Parameters.AsSpan().SequenceEqual(gen.GenerateEach([Prompt], [8], new GenerateOptions { Steps = 20 })[0].Parameters));
        Assert.Throws<ArgumentException>(() => gen.GenerateEach(prompts, [1, 2], null));
    }

    [Fact]
    public void ConcurrentGenerationEqualsSequential()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var prompts = new[] { Prompt, ["bed", "bee"], ["boy", "bowl", "bottle", "baby"], ["beetle", "bear"], ["apple", "beaver"], ["bear", "bed", "bee"] };
        var sequential = prompts.Select((p, i) => gen.Generate(p, new GenerateOptions { Seed = i }).Parameters).ToArray();
        var parallel = new float[prompts.Length][];
        var threads = prompts.Select((p, i) => new Thread(() => parallel[i] = gen.Generate(p, new GenerateOptions { Seed = i }).Parameters)).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int i = 0; i < prompts.Length; i++)
            Assert.True(sequential[i].AsSpan().SequenceEqual(parallel[i]), $"prompt {i} differs when generated concurrently");
    }

    [Fact]
    public void BadPromptsAreRejected()
    {
        using var enc = new HashTextEncoder();
        using var withEncoder = TinaGenerator.Load(GenerationFixture.CheckpointDir, enc);
        using var without = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(Array.Empty<string>()));
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate([" ", ";"]));
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(" ,; "));
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(["apple", "pe\u0007ar"]));
        // One class is no classifier: most often a list typed without separators, which the message points to.
        var one = Assert.Throws<InvalidPromptException>(() => withEncoder.Generate("apple bear bed")).Message;
        Assert.Contains("at least 2 classes", one);
        Assert.Contains("'apple bear bed'", one);
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate([ClassPrompt.OfName("apple")]));
        Assert.StartsWith("Prompt 1 of 2:", Assert.Throws<InvalidPromptException>(() => withEncoder.Generate([["apple"], ["apple", "bear"]])).Message);
        Assert.Contains("at most 10", Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(string.Join(";", Enumerable.Range(0, 11).Select(i => $"class{(char)('a' + i)}")))).Message);
        // In a batch, the message says which prompt is wrong.
        var second = Assert.Throws<InvalidPromptException>(() => withEncoder.Generate([["apple", "bear"], ["bear", "Bear"]])).Message;
        Assert.StartsWith("Prompt 2 of 2: Duplicate class: class 2, 'Bear'", second);
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(Enumerable.Range(0, 11).Select(i => $"class{(char)('a' + i)}").ToArray()));
        var dup = Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(["apple", "bear", "Apple"]));
        Assert.Contains("apple", dup.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<InvalidPromptException>(() => withEncoder.Generate(["apple", "zzzq"]));
        var unknown = Assert.Throws<InvalidPromptException>(() => without.Generate(["apple", "pear"]));
        Assert.Contains("pear", unknown.Message);
        // Every form of a prompt is parsed alike: a text, a list, list items holding separators, extra whitespace.
        var reference = without.Generate(["apple", "bear"], new GenerateOptions { Seed = 2 });
        Assert.Equal(["apple", "bear"], reference.Labels);
        foreach (var same in new[] { without.Generate("apple;  bear\n", new GenerateOptions { Seed = 2 }), without.Generate(["apple, bear"], new GenerateOptions { Seed = 2 }), without.Generate([" apple ", "", "bear"], new GenerateOptions { Seed = 2 }) })
        {
            Assert.Equal(reference.Labels, same.Labels);
            Assert.True(reference.Parameters.AsSpan().SequenceEqual(same.Parameters));
        }
        // With the encoder, a class outside the zoo is fine.
        Assert.Equal(["apple", "pear"], withEncoder.Generate(["apple", "pear"]).Labels);
        // An encoder other than the training one is refused.
        using var other = new HashTextEncoder(8);
        Assert.Throws<TinaException>(() => TinaGenerator.Load(GenerationFixture.CheckpointDir, other));
        Assert.Throws<TinaFileNotFoundException>(() => TinaGenerator.Load(TestData.TempDir()));
    }

    [Fact]
    public void TinaMethodMeasuresPAcc()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var manifest = ZooManifest.Load(GenerationFixture.ZooDir);
        var tasks = FineTunedMethod.Tasks(manifest, "ood");
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 10);
        var result = PAcc.Evaluate(new TinaMethod(gen), tasks, data.Test);
        Assert.Equal("tina", result.Method);
        Assert.Equal(tasks.Count, result.PerTask.Length);
        // The mean is the tasks' mean, and each task's p-Acc counts whole images (10 test images per class here).
        Assert.Equal(result.PerTask.Average(), result.Mean, 1e-9);
        for (int i = 0; i < tasks.Count; i++)
        {
            double correct = result.PerTask[i] * 10 * tasks[i].Count / 100;
            Assert.True(Math.Abs(correct - Math.Round(correct)) < 1e-6, $"task {i}: {result.PerTask[i]} % of {10 * tasks[i].Count} images");
        }
        Assert.Equal("tina-ddpm", new TinaMethod(gen, new GenerateOptions { Sampler = DiffusionSampler.Ddpm }).Name);
        output.WriteLine($"Tiny Tina OOD p-Acc over {tasks.Count} tasks: {result.Mean:F1} % (chance 25 %)");
    }

    [Theory]
    [InlineData("relativeTo", "ClassifierSelection", "--relative-to")]
    [InlineData("normalization", "Center", "--normalize center")]
    [InlineData("normalization", "Standardize", "--normalize standardize")]
    public void ACheckpointTrainedWithARemovedOptionIsOneClearError(string field, string value, string option)
    {
        // The option measured no gain and was removed; a generator trained with it names it and the last commit with it.
        var dir = TestData.TempDir();
        foreach (var f in Directory.GetFiles(GenerationFixture.CheckpointDir)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var statePath = Path.Combine(dir, TinaCheckpoint.StateFile);
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!;
        json["options"]![field] = value;
        File.WriteAllText(statePath, json.ToJsonString());
        foreach (var load in new Action[] { () => TinaCheckpoint.Load(dir), () => TinaGenerator.Load(dir).Dispose() })
        {
            var e = Assert.Throws<TinaException>(load);
            Assert.Contains(option, e.Message);
            Assert.Contains("adedade", e.Message);
        }
    }

    [Fact]
    public void DamagedWeightsFileIsACorruptFileNamingTheProblem()
    {
        var state = TinaCheckpoint.Load(GenerationFixture.CheckpointDir);
        var weights = TinaWeights.Load(GenerationFixture.CheckpointDir, state);
        Assert.Equal(weights.Model.Keys, weights.Ema.Keys);
        Assert.Equal([state.TextNames.Length, state.Config.TextDim], weights.TextEmbeddings.Shape);
        Assert.Null(weights.Frozen);                              // CNN-5K: no backbone
        var (tensors, meta) = SafeTensors.Load(Path.Combine(GenerationFixture.CheckpointDir, state.WeightsFile));
        Assert.Equal(["model.", "ema.", "text.embeddings"], tensors.Keys.Select(k => k.StartsWith("text.", StringComparison.Ordinal) ? k : k[..(k.IndexOf('.') + 1)]).Distinct());
        Assert.Equal(TinaCheckpoint.FormatName, meta["format"]);

        void Damaged(Func<Dictionary<string, NamedTensor>, IEnumerable<KeyValuePair<string, NamedTensor>>> damage, string problem)
        {
            var dir = TestData.TempDir();
            foreach (var f in Directory.GetFiles(GenerationFixture.CheckpointDir)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            var path = Path.Combine(dir, state.WeightsFile);
            SafeTensors.Save(path, damage(new Dictionary<string, NamedTensor>(tensors)), meta);
            foreach (var load in new Action[] { () => TinaWeights.Load(dir, state), () => TinaGenerator.Load(dir).Dispose() })
            {
                var e = Assert.Throws<CorruptFileException>(load);
                Assert.Equal(path, e.FilePath);
                Assert.Contains(problem, e.Message);
            }
        }
        var emaName = tensors.Keys.First(k => k.StartsWith("ema.", StringComparison.Ordinal));
        Damaged(t => t.Where(kv => kv.Key != emaName), $"EMA tensor '{emaName["ema.".Length..]}' is missing");
        Damaged(t => t.Select(kv => kv.Key == emaName ? new(kv.Key, new NamedTensor([kv.Value.Data.Length], kv.Value.Data)) : kv), "another shape");
        Damaged(t => t.Append(new("ema.extra", new NamedTensor([1], [0f]))), "'extra' has no model tensor");
        Damaged(t => t.Where(kv => kv.Key != "text.embeddings"), "'text.embeddings'");
        Damaged(t => t.Select(kv => kv.Key == "text.embeddings" ? new(kv.Key, new NamedTensor([kv.Value.Shape[0] - 1, kv.Value.Shape[1]], kv.Value.Data[..^(int)kv.Value.Shape[1]])) : kv), "'text.embeddings'");
        Damaged(t => t.Append(new("frozen.conv1.weight", new NamedTensor([1], [0f]))), "frozen");
        Damaged(t => t.Where(kv => !kv.Key.StartsWith("model.", StringComparison.Ordinal)), "no 'model.*' tensors");

        // A weights file named by the state but gone is a missing file.
        var gone = TestData.TempDir();
        File.Copy(Path.Combine(GenerationFixture.CheckpointDir, TinaCheckpoint.StateFile), Path.Combine(gone, TinaCheckpoint.StateFile));
        Assert.Throws<TinaFileNotFoundException>(() => TinaWeights.Load(gone, state));
        Assert.Throws<TinaFileNotFoundException>(() => TinaGenerator.Load(gone));
    }

    private sealed class StopAt(CancellationTokenSource cts, int epoch, int step) : IProgress<TinaTrainingProgress>
    {
        public void Report(TinaTrainingProgress p) { if (p.Epoch >= epoch && p.Step >= step && p.Message is null) cts.Cancel(); }
    }
}

public class TinaResNetGenerationTests
{
    [Fact]
    public void ResNetHeadsAreCombinedWithTheStoredBackbone()
    {
        using var gen = TinaGenerator.Load(ResNetGenerationFixture.CheckpointDir);
        Assert.Equal(PModelArch.ResNet20, gen.Arch);
        Assert.Equal(Tina.Diffusion.ParameterNormalization.PerTensor, gen.State.Options.Normalization);
        var m = gen.Generate(["apple", "bear"], new GenerateOptions { Seed = 2 });
        Assert.Equal(ParameterLayout.For(PModelArch.ResNet20, 2).Count, m.Parameters.Length);   // 64·2 + 2
        Assert.Contains("conv1.weight", m.Frozen.Keys);
        Assert.DoesNotContain(m.Frozen.Keys, k => k.StartsWith("fc.", StringComparison.Ordinal));
        using var net = m.ToNetwork();
        Assert.Equal(2, net.NumClasses);
        var onnx = Tina.MLNet.Generation.Export.OnnxExporter.Export(m, "apple, bear", "tina");
        Assert.True(onnx.Length > 200_000, $"ONNX of a ResNet-20 has the backbone: {onnx.Length} bytes");
    }

    [Fact]
    public void TinaMethodOnFrozenBackboneFeaturesPredictsLikeTheWholeNetwork()
    {
        using var gen = TinaGenerator.Load(ResNetGenerationFixture.CheckpointDir);
        var data = Fixtures.CifarSubset(classes: 12, perClass: 16, testPerClass: 10);
        var task = new Tina.Tasks.PersonalizationTask([3, 0, 7], [data.ClassNames[3], data.ClassNames[0], data.ClassNames[7]]);
        var indices = data.Test.IndicesOf(task.Classes.ToHashSet());
        var options = new GenerateOptions { Seed = 5 };
        using var method = new TinaMethod(gen, options);
        var fast = method.Predict(task, data.Test, indices);
        var again = method.Predict(task, data.Test, indices);   // second call: cached features

        using var net = gen.Generate(task.Names, options).ToNetwork();
        using var logits = Tina.PModels.Accuracy.Logits(net, data.Test);
        using var argmax = logits.argmax(1);
        var all = argmax.data<long>().ToArray();
        var whole = indices.Select(i => (int)all[i]).ToArray();
        Assert.Equal(whole, fast);
        Assert.Equal(whole, again);
    }
}
