using Microsoft.ML.OnnxRuntime;
using Tina.Diffusion;
using Tina.Evaluation;
using Tina.Generation;
using Tina.MLNet.Export;
using Tina.MLNet.Generation.Export;
using Tina.PModels;
using Tina.Tests.Export;
using Tina.Zoo;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Tina.Tests.Generation;

/// <summary>Seed ensembles from the tiny fixtures' generators: seeds, bytes, the ONNX mean, Tina's p-Acc with an ensemble.</summary>
public class TinaEnsembleTests(ITestOutputHelper output)
{
    private static readonly string[] Prompt = ["apple", "bear", "bicycle"];
    private static readonly int[] Sample = Enumerable.Range(0, 24).Select(i => i * 400 + 3).ToArray();

    [Fact]
    public void EnsembleOfOneIsTodaysModelByteForByte()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        foreach (var options in new[] { new GenerateOptions { Seed = 3 }, new GenerateOptions { Seed = 3, Sampler = DiffusionSampler.Ddpm, Steps = 30 } })
        {
            var single = gen.Generate(Prompt, options);
            var one = gen.GenerateEnsemble(Prompt, options with { EnsembleSize = 1 });
            Assert.Equal([options.Seed], one.Seeds!);
            Assert.True(single.Parameters.AsSpan().SequenceEqual(Assert.Single(one.Members).Parameters));
            Assert.Equal(options.Describe(), (options with { EnsembleSize = 1 }).Describe());
            Assert.Equal(OnnxExporter.Export(single, "apple, bear, bicycle", options.Describe()), OnnxExporter.Export(one, "apple, bear, bicycle", options.Describe()));
        }
        // Several prompts with an ensemble of one: today's batched call, model for model.
        var prompts = new IReadOnlyList<string>[] { Prompt, ["bed", "bee"] };
        var batch = gen.Generate(prompts, new GenerateOptions { Seed = 8 });
        var ensembles = gen.GenerateEnsembles(prompts, new GenerateOptions { Seed = 8 });
        for (int i = 0; i < prompts.Length; i++) Assert.True(batch[i].Parameters.AsSpan().SequenceEqual(ensembles[i].Members[0].Parameters));
    }

    [Fact]
    public void SameSeedSameBytesAndMembersDiffer()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Seed = 5, EnsembleSize = 3 };
        var seeds = options.MemberSeeds();
        Assert.Equal(5, seeds[0]);
        Assert.Equal(3, seeds.Distinct().Count());
        Assert.Equal(seeds, options.MemberSeeds());
        Assert.NotEqual(seeds[1], (options with { Seed = 6 }).MemberSeeds()[1]);
        Assert.NotEqual(seeds[1], (options with { Seed = 5 + (1L << 32) }).MemberSeeds()[1]);   // all 64 bits of the seed count
        Assert.Equal("tina ddim-50 seed 5 ema ensemble 3", options.Describe());

        var a = gen.GenerateEnsemble(Prompt, options);
        var b = gen.GenerateEnsemble(Prompt, options);
        Assert.Equal(seeds, a.Seeds!);
        Assert.Equal(OnnxExporter.Export(a, null, options.Describe()), OnnxExporter.Export(b, null, options.Describe()));
        Assert.NotEqual(OnnxExporter.Export(a), OnnxExporter.Export(gen.GenerateEnsemble(Prompt, options with { Seed = 6 })));
        for (int i = 0; i < 3; i++)
            for (int j = i + 1; j < 3; j++)
                Assert.False(a.Members[i].Parameters.AsSpan().SequenceEqual(a.Members[j].Parameters), $"members {i} and {j} are equal");

        // Member m is the sample of its own seed: close to generating with that seed alone (the batch may round differently).
        for (int m = 0; m < 3; m++)
        {
            var alone = gen.Generate(Prompt, new GenerateOptions { Seed = seeds[m] }).Parameters;
            double maxDiff = alone.Zip(a.Members[m].Parameters, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(maxDiff < 1e-3, $"member {m} differs from seed {seeds[m]} alone by {maxDiff}");
        }
    }

    [Fact]
    public void BatchedGenerationIsBitwiseRepeatable()
    {
        // Several rows per matrix product: before the prompt tokens were copied into libtorch memory, their managed
        // array's alignment changed MKL's rounding and about two calls in three gave other bits.
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var prompts = new IReadOnlyList<string>[] { Prompt, ["bed", "bee"], ["boy", "bowl"] };
        var options = new GenerateOptions { Seed = 5, Steps = 10 };
        var first = gen.Generate(prompts, options).SelectMany(m => m.Parameters).ToArray();
        var firstEnsemble = gen.GenerateEnsemble(Prompt, options with { EnsembleSize = 3 }).Members.SelectMany(m => m.Parameters).ToArray();
        for (int r = 0; r < 6; r++)
        {
            var garbage = new float[1 + 7 * r];   // move the next arrays to other addresses
            Assert.True(first.AsSpan().SequenceEqual(gen.Generate(prompts, options).SelectMany(m => m.Parameters).ToArray()), $"batch, call {r + 2}");
            Assert.True(firstEnsemble.AsSpan().SequenceEqual(gen.GenerateEnsemble(Prompt, options with { EnsembleSize = 3 }).Members.SelectMany(m => m.Parameters).ToArray()), $"ensemble, call {r + 2}");
            GC.KeepAlive(garbage);
        }
    }

    [Fact]
    public void BadEnsembleSizesAreClearErrors()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        foreach (var k in new[] { 0, 17, -1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => gen.GenerateEnsemble(Prompt, new GenerateOptions { EnsembleSize = k }));
            Assert.Contains($"got {k}", e.Message);
            Assert.Contains("EnsembleSize", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => new TinaMethod(gen, new GenerateOptions { EnsembleSize = k }));
        }
        var plain = Assert.Throws<ArgumentException>(() => gen.Generate(Prompt, new GenerateOptions { EnsembleSize = 2 }));
        Assert.Contains(nameof(TinaGenerator.GenerateEnsemble), plain.Message);
        Assert.Equal(16, gen.GenerateEnsemble(["apple", "bear"], new GenerateOptions { EnsembleSize = 16, Steps = 2 }).Count);
    }

    [Fact]
    public void GeneratedCnnEnsembleOnnxIsTheMeanOfItsMembers()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Seed = 2, EnsembleSize = 4 };
        var ensemble = gen.GenerateEnsemble(Prompt, options);
        var bytes = OnnxExporter.Export(ensemble, "apple, bear, bicycle", options.Describe());
        var images = OnnxTestSupport.TestImages(Sample);
        var diff = OnnxEnsembleExportTests.AssertIsMeanOfMembers(bytes, ensemble.Members, images, Sample.Length);
        var info = TinaOnnxModelReader.Read(bytes, "memory");
        Assert.Equal(4, info.EnsembleSize);
        Assert.Equal(options.MemberSeeds(), info.EnsembleSeeds!);
        Assert.Equal(options.Describe(), info.Method);
        output.WriteLine($"generated CNN-5K ensemble of 4: {bytes.Length:N0} bytes, max diff {diff:E2}");
    }

    [Fact]
    public void TinaMethodWithAnEnsembleMeasuresPAccLikeTheEnsembleOnnx()
    {
        using var gen = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var manifest = ZooManifest.Load(GenerationFixture.ZooDir);
        var tasks = FineTunedMethod.Tasks(manifest, "ood");
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 10);
        var options = new GenerateOptions { Seed = 4, EnsembleSize = 3, Steps = 20 };
        using var method = new TinaMethod(gen, options);
        Assert.Equal("tina-ens3", method.Name);
        Assert.Equal("tina-ddpm-ens2", TinaMethod.DefaultName(new GenerateOptions { Sampler = DiffusionSampler.Ddpm, EnsembleSize = 2 }));
        var result = PAcc.Evaluate(method, tasks, data.Test);
        Assert.Equal("tina-ens3", result.Method);
        Assert.Equal(tasks.Count, result.PerTask.Length);
        // The mean is the tasks' mean, and each task's p-Acc counts whole images (10 test images per class here).
        Assert.Equal(result.PerTask.Average(), result.Mean, 1e-9);
        for (int i = 0; i < tasks.Count; i++)
        {
            double correct = result.PerTask[i] * 10 * tasks[i].Count / 100;
            Assert.True(Math.Abs(correct - Math.Round(correct)) < 1e-6, $"task {i}: {result.PerTask[i]} % of {10 * tasks[i].Count} images");
        }

        // Whole networks (CNN-5K): the predictions are the argmax of the mean softmax, as in the exported graph.
        var task = tasks[0];
        var indices = data.Test.IndicesOf(task.Classes.ToHashSet());
        using var direct = new TinaMethod(gen, options);
        var predicted = direct.Predict(task, data.Test, indices);
        var ensemble = gen.GenerateEnsemble(task.Names, options);
        var images = new float[indices.Length * 3 * 32 * 32];
        for (int k = 0; k < indices.Length; k++)
        {
            var img = data.Test.Image(indices[k]);
            for (int j = 0; j < img.Length; j++) images[k * img.Length + j] = img[j] / 255f;
        }
        var mean = OnnxEnsembleExportTests.MeanOfMembers(ensemble.Members, images, indices.Length);
        int c = task.Names.Length;
        for (int i = 0; i < indices.Length; i++)
        {
            int want = OnnxTestSupport.ArgMax(mean, c, i);
            if (predicted[i] != want)
                Assert.True(Math.Abs(mean[i * c + want] - mean[i * c + predicted[i]]) < 1e-5f, $"image {i}: TinaMethod {predicted[i]}, ONNX mean {want}");
        }
        output.WriteLine($"Tiny Tina OOD p-Acc, ensemble of 3 over {tasks.Count} tasks: {result.Mean:F1} %");
    }

    [Fact]
    public void ResNetEnsembleSharesTheBackboneInOnnxAndInTinaMethod()
    {
        using var gen = TinaGenerator.Load(ResNetGenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Seed = 5, EnsembleSize = 3, Steps = 20 };
        var data = Fixtures.CifarSubset(classes: 12, perClass: 16, testPerClass: 10);
        var task = new Tina.Tasks.PersonalizationTask([3, 0, 7], [data.ClassNames[3], data.ClassNames[0], data.ClassNames[7]]);
        var ensemble = gen.GenerateEnsemble(task.Names, options);

        var proto = OnnxExporter.BuildModel(ensemble);
        Assert.Equal(21, proto.Graph.Node.Count(n => n.OpType == "Conv"));
        Assert.Equal(3, proto.Graph.Node.Count(n => n.OpType == "Gemm"));
        var images = OnnxTestSupport.TestImages(Sample);
        OnnxEnsembleExportTests.AssertIsMeanOfMembers(OnnxExporter.Export(ensemble), ensemble.Members, images, Sample.Length);

        // TinaMethod's cached-feature path: argmax of the mean softmax of the three heads, as whole networks give.
        var indices = data.Test.IndicesOf(task.Classes.ToHashSet());
        using var method = new TinaMethod(gen, options);
        var fast = method.Predict(task, data.Test, indices);
        var sum = zeros(data.Test.Count, 3);
        foreach (var member in ensemble.Members)
        {
            using var net = member.ToNetwork();
            using var logits = Accuracy.Logits(net, data.Test);
            using var p = logits.softmax(1);
            sum = Tina.Runtime.TensorMath.Plus(sum, p);
        }
        using var argmax = sum.argmax(1);
        var all = argmax.data<long>().ToArray();
        Assert.Equal(indices.Select(i => (int)all[i]).ToArray(), fast);
        sum.Dispose();
    }
}
