using System.Security.Cryptography;
using System.Text;
using Tina.Generation;
using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Text;
using Tina.Zoo;
using TorchSharp;

namespace Tina.Tests.Generation;

/// <summary>
/// A deterministic stand-in for a text encoder: each lower-case word [a-z]+ maps to a fixed random unit vector (seeded
/// by a SHA-256 of the word), a text to the normalised mean of its words. Words containing "zzz" and texts without
/// words (such as '&lt;-&gt;', like GloVe) cannot be encoded. No files, no npm.
/// </summary>
internal sealed class HashTextEncoder(int dimension = 16) : ITextEncoder
{
    public string Id => $"test-hash-{Dimension}d";

    public int Dimension { get; } = dimension;

    public float[][] Encode(IReadOnlyList<string> texts) => texts.Select(EncodeOne).ToArray();

    private float[] EncodeOne(string text)
    {
        var words = new StringBuilder();
        var list = new List<string>();
        foreach (var ch in text.ToLowerInvariant() + " ")
        {
            if (ch is >= 'a' and <= 'z') { words.Append(ch); continue; }
            if (words.Length > 0) list.Add(words.ToString());
            words.Clear();
        }
        if (list.Count == 0) throw new InvalidPromptException($"\"{text}\" has no words");
        var bad = list.Where(w => w.Contains("zzz")).ToList();
        if (bad.Count > 0) throw new InvalidPromptException($"unknown word(s) {string.Join(", ", bad)} in \"{text}\"");
        var v = new double[Dimension];
        foreach (var w in list)
        {
            var rng = new Random(BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(w)), 0));
            for (int i = 0; i < Dimension; i++) v[i] += rng.NextDouble() * 2 - 1;
        }
        double norm = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => (float)(x / norm)).ToArray();
    }

    public void Dispose() { }
}

/// <summary>A tiny CNN-5K zoo (8 training tasks of 4 classes, 1 fine-tuning epoch) and a Tiny Tina trained on it, built once.</summary>
internal static class GenerationFixture
{
    public const int Epochs = 12;

    private static readonly Lazy<string> _zoo = new(BuildZoo);
    private static readonly Lazy<string> _checkpoint = new(() => Train(Path.Combine(TestData.TempDir(), "tina"), Epochs));

    /// <summary>The zoo folder.</summary>
    public static string ZooDir => _zoo.Value;

    /// <summary>A trained checkpoint folder.</summary>
    public static string CheckpointDir => _checkpoint.Value;

    public static TinaTrainingOptions Options(int epochs) => new()
    {
        ConfigName = "tiny", Epochs = epochs, BatchSize = 4, WarmupEpochs = 1, Seed = 5, LearningRate = 1e-3,
    };

    public static string Train(string dir, int epochs, IProgress<TinaTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        using var encoder = new HashTextEncoder();
        new TinaTrainer(Options(epochs), encoder).Train(ZooDir, dir, progress, cancel);
        return dir;
    }

    private static string BuildZoo()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 32, testPerClass: 10);
        using var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, seed: 11),
            new GenericModelCard { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 11, Optimizer = "none" });
        var dir = Path.Combine(TestData.TempDir(), "zoo");
        new ZooBuilder(generic, "generic", data, new ZooBuildOptions
        {
            TrainTasks = 8, OodTasks = 2, ClassesPerTask = 4, Seed = 3,
            FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 10 },
        }).Build(dir);
        return dir;
    }
}

/// <summary>A tiny ResNet-20 zoo (heads only) whose generic model is saved, and a Tiny Tina trained on it for 2 epochs.</summary>
internal static class ResNetGenerationFixture
{
    private static readonly Lazy<string> _checkpoint = new(Build);

    public static string CheckpointDir => _checkpoint.Value;

    private static string Build()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 16, testPerClass: 10);
        var root = TestData.TempDir();
        var genericPath = Path.Combine(root, "generic-resnet20");
        using (var generic = new GenericModel(PModelNetwork.Create(PModelArch.ResNet20, data.NumClasses, seed: 12),
            new GenericModelCard { Arch = "resnet20", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 12, Optimizer = "none" }))
        {
            generic.Save(genericPath);
            new ZooBuilder(generic, genericPath, data, new ZooBuildOptions
            {
                TrainTasks = 6, OodTasks = 0, ClassesPerTask = 5, Seed = 4,
                FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 6 },
            }).Build(Path.Combine(root, "zoo"));
        }
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(root, "tina");
        new TinaTrainer(GenerationFixture.Options(2) with { Normalization = Tina.Diffusion.ParameterNormalization.PerTensor }, encoder).Train(Path.Combine(root, "zoo"), dir);
        // The checkpoint carries the frozen backbone: generation must not need the generic model any more.
        File.Delete(genericPath + ".safetensors");
        return dir;
    }
}

/// <summary>
/// A resnet18 pipeline in miniature: a generic head trained on the ResNet-18 features of twelve CIFAR-100 classes,
/// saved; a zoo of its heads; a Tiny Tina trained on it for 2 epochs. For the entry points (CLI, service, ML.NET) on
/// classifiers whose backbone is ML.NET's pretrained ResNet-18, not for their accuracy.
/// </summary>
internal static class ResNet18GenerationFixture
{
    private static readonly Lazy<(string Checkpoint, string Zoo, Tina.Data.ImageDataset Data)> _built = new(Build);

    public static string CheckpointDir => _built.Value.Checkpoint;

    public static string ZooDir => _built.Value.Zoo;

    public static Tina.Data.ImageDataset Data => _built.Value.Data;

    private static (string, string, Tina.Data.ImageDataset) Build()
    {
        Tina.Tests.MLNet.ResNet18Fixture.UseTestCache();
        var data = Fixtures.CifarSubset(classes: 12, perClass: 16, testPerClass: 5);
        var root = TestData.TempDir();
        var genericPath = Path.Combine(root, "generic-resnet18");
        using (var generic = new GenericTrainer(new GenericTrainingOptions { Arch = PModelArch.ResNet18, Epochs = 5, BatchSize = 32, Seed = 13 }, Path.Combine(root, "ckpt")).Train(data))
        {
            generic.Save(genericPath);
            new ZooBuilder(generic, genericPath, data, new ZooBuildOptions
            {
                TrainTasks = 8, OodTasks = 2, ClassesPerTask = 4, Seed = 4,
                FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 10 },
            }).Build(Path.Combine(root, "zoo"));
        }
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(root, "tina");
        new TinaTrainer(GenerationFixture.Options(2), encoder).Train(Path.Combine(root, "zoo"), dir);
        return (dir, Path.Combine(root, "zoo"), data);
    }
}
