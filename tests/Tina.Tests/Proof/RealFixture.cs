using System.Diagnostics;
using Tina.Data;
using Tina.Evaluation;
using Tina.Generation;
using Tina.Generic;
using Tina.PModels;
using Tina.Text;
using Tina.Tests.Generation;
using Tina.Zoo;
using TorchSharp;

namespace Tina.Tests.Proof;

/// <summary>
/// A small but real pipeline, built once per test run: a ResNet-20 generic model trained for a few epochs on the first
/// 20 classes of CIFAR-100, a zoo of fine-tuned 2–5-class heads on its frozen backbone, and a Tiny Tina trained on that
/// zoo with the default token layout (shared slots) and the hash text encoder (a fixed random vector per word, so
/// different class names get clearly different embeddings). Unlike <see cref="GenerationFixture"/>, everything here
/// has learned something, so tests can check that the method works, not only that it runs.
/// </summary>
internal static class RealFixture
{
    public const int Classes = 20;

    private static readonly Lazy<Built> _built = new(Build);

    public static Built Value => _built.Value;

    /// <summary>The built fixture; everything is kept for the whole test run (never disposed).</summary>
    public sealed record Built(
        ImageDataset Data, GenericModel Generic, string ZooDir, ZooManifest Manifest, IReadOnlyList<ZooEntry> Entries,
        string CheckpointDir, TinaGenerator Generator, torch.Tensor TestFeatures, IReadOnlyDictionary<string, double> Seconds)
    {
        public IReadOnlyList<ZooEntry> Training => Entries.Where(e => e.Task.Split == "train").ToList();

        public IReadOnlyList<ZooEntry> HeldOut => Entries.Where(e => e.Task.Split == "ood").ToList();
    }

    private static readonly Lazy<TinaGenerator> _control = new(BuildControl);

    /// <summary>
    /// The executed negative control: a generator trained exactly like <see cref="Built.Generator"/> on the same zoo,
    /// but with every class text encoded to one and the same vector (<see cref="OneVectorTextEncoder"/>), so its class
    /// tokens carry no information. The prompt-following tests must fail on it.
    /// </summary>
    public static TinaGenerator Control => _control.Value;

    /// <summary>Sampling options of the tests (DDIM, 20 steps, fixed seed).</summary>
    public static GenerateOptions Generate => new() { Steps = 20, Seed = 7 };

    private static Built Build()
    {
        var seconds = new Dictionary<string, double>();
        var sw = Stopwatch.StartNew();
        void Lap(string name) { seconds[name] = sw.Elapsed.TotalSeconds; sw.Restart(); }

        var data = Fixtures.CifarSubset(classes: Classes, perClass: 30, testPerClass: 30);
        Lap("data");
        var root = TestData.TempDir();
        var generic = new GenericTrainer(new GenericTrainingOptions { Arch = PModelArch.ResNet20, Epochs = 2, BatchSize = 32, Seed = 21 },
            Path.Combine(root, "generic-ckpt")).Train(data);
        var genericPath = Path.Combine(root, "generic-resnet20");
        generic.Save(genericPath);
        Lap("generic");

        var zooDir = Path.Combine(root, "zoo");
        var manifest = new ZooBuilder(generic, genericPath, data, new ZooBuildOptions
        {
            TrainTasks = 64, OodTasks = 16, ClassesPerTask = 5, MinClassesPerTask = 2, Seed = 8,
            FineTune = new FineTuneOptions { Epochs = 10, BatchSize = 32, ModelsPerGroup = 40 },
        }).Build(zooDir);
        var entries = ZooReader.ReadAll(zooDir, out _);
        Lap("zoo");

        var checkpoint = Path.Combine(root, "tina");
        using (var encoder = new HashTextEncoder())
            new TinaTrainer(TrainingOptions, encoder).Train(zooDir, checkpoint);
        Lap("tina");

        var generator = TinaGenerator.Load(checkpoint, new HashTextEncoder());
        var features = Accuracy.Features(generic.Network, data.Test);
        Lap("features");
        return new Built(data, generic, zooDir, manifest, entries, checkpoint, generator, features, seconds);
    }

    private const int Epochs = 40;

    private static TinaTrainingOptions TrainingOptions => new()
    {
        ConfigName = "tiny", Epochs = Epochs, BatchSize = 16, WarmupEpochs = 2, Seed = 9, LearningRate = 2e-3,
        CheckpointEvery = Epochs,
    };

    private static TinaGenerator BuildControl()
    {
        var checkpoint = Path.Combine(TestData.TempDir(), "tina-one-vector");
        using (var encoder = new OneVectorTextEncoder())
            new TinaTrainer(TrainingOptions, encoder).Train(Value.ZooDir, checkpoint);
        return TinaGenerator.Load(checkpoint, new OneVectorTextEncoder());
    }
}

/// <summary>
/// A text encoder that gives every text the same unit vector (of <see cref="HashTextEncoder"/>'s width): the negative
/// control of the prompt-following tests, whose generator cannot know which class a slot holds.
/// </summary>
internal sealed class OneVectorTextEncoder : ITextEncoder
{
    public string Id => "test-one-vector-16d";

    public int Dimension => 16;

    public float[][] Encode(IReadOnlyList<string> texts) =>
        texts.Select(_ => Enumerable.Repeat(0.25f, Dimension).ToArray()).ToArray();   // norm 1

    public void Dispose() { }
}

/// <summary>
/// A zoo's fine-tuned heads as a personalization method through the public p-Acc path: each task is classified by the
/// head the zoo stored for it, applied to the generic backbone's features (the backbone the heads were tuned on).
/// </summary>
internal sealed class ZooHeadMethod(IReadOnlyList<ZooEntry> entries, torch.Tensor features) : IPersonalizationMethod
{
    private readonly Dictionary<string, ZooEntry> _byPrompt = entries.GroupBy(e => e.AsTask().Prompt).ToDictionary(g => g.Key, g => g.First());

    public string Name => "zoo-heads";

    public int[] Predict(Tina.Tasks.PersonalizationTask task, ImageSet test, int[] indices)
    {
        var entry = _byPrompt[task.Prompt];
        var layout = ParameterLayout.For(PModelArch.ResNet20, task.Count);
        var w = layout["fc.weight"];
        using var scope = torch.NewDisposeScope();
        var weight = torch.tensor(layout.Slice(entry.Parameters, "fc.weight").ToArray(), [task.Count, w.Shape[1]]);
        var bias = torch.tensor(layout.Slice(entry.Parameters, "fc.bias").ToArray(), [task.Count]);
        var f = features.index_select(0, torch.tensor(indices.Select(i => (long)i).ToArray()));
        return torch.nn.functional.linear(f, weight, bias).argmax(1).data<long>().Select(v => (int)v).ToArray();
    }
}
