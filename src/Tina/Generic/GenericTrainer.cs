using System.Diagnostics;
using System.Text.Json;
using Tina.Data;
using Tina.IO;
using Tina.PModels;
using Tina.Runtime.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Generic;

/// <summary>Settings of stage-1 training.</summary>
public sealed record GenericTrainingOptions
{
    /// <summary>Architecture to train.</summary>
    public PModelArch Arch { get; init; } = PModelArch.Cnn5k;

    /// <summary>Epochs over the training split (the paper: 50; see <see cref="DefaultEpochs"/>).</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>The default epochs of <paramref name="arch"/>: the paper's 50, or 10 for a ResNet-18 head on its fixed features (validation accuracy peaks there, docs/RESULTS.md).</summary>
    public static int DefaultEpochs(PModelArch arch) => arch == PModelArch.ResNet18 ? 10 : 50;

    /// <summary>Mini-batch size.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary><c>sgd</c> (momentum 0.9, Nesterov) or <c>adamw</c>; null picks the architecture's default.</summary>
    public string? Optimizer { get; init; }

    /// <summary>Peak learning rate; null picks the default (SGD 0.1, AdamW 0.01).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Weight decay; null picks the default (SGD 5e-4, AdamW 1e-4).</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Seed of initialisation, shuffling and augmentation. The same seed gives the same weights.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Compute device.</summary>
    public Device? Device { get; init; }

    /// <summary>Random crop (pad 4) + horizontal flip.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>
    /// Share of every class's training images kept out of stage 1 (0: none), so that a later recipe search
    /// (<see cref="Zoo.RecipeSearch"/>) validates on images the generic model never saw. The images are
    /// <see cref="ImageDataset.WithValidationSplit"/>(<see cref="HoldoutFraction"/>, <see cref="HoldoutSeed"/>)'s
    /// validation part; the model card records both.
    /// </summary>
    public double HoldoutFraction { get; init; }

    /// <summary>Seed of the held-out split.</summary>
    public int HoldoutSeed { get; init; }

    /// <summary>Resolved optimizer name.</summary>
    public string OptimizerName => (Optimizer ?? (Arch == PModelArch.ResNet20 ? "sgd" : "adamw")).ToLowerInvariant();

    /// <summary>Resolved learning rate: SGD 0.1, AdamW 0.01, or AdamW 0.001 for a ResNet-18 head (best of 0.0003–0.01 on a validation split, docs/RESULTS.md).</summary>
    public double Lr => LearningRate ?? (OptimizerName == "sgd" ? 0.1 : Arch == PModelArch.ResNet18 ? 0.001 : 0.01);

    /// <summary>Resolved weight decay.</summary>
    public double Wd => WeightDecay ?? (OptimizerName == "sgd" ? 5e-4 : 1e-4);
}

/// <summary>Progress of a training run, reported after every step.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="Epochs">Total epochs.</param>
/// <param name="Step">1-based step within the epoch.</param>
/// <param name="Steps">Steps per epoch.</param>
/// <param name="Loss">Running mean loss of the epoch.</param>
/// <param name="Accuracy">Running training accuracy of the epoch, %.</param>
/// <param name="Message">Extra text (e.g. "resumed at epoch 7", test accuracy at the end).</param>
public sealed record TrainingProgress(int Epoch, int Epochs, int Step, int Steps, double Loss, double Accuracy, string? Message = null);

/// <summary>
/// Stage 1: trains the generic model on all classes with cross-entropy, warm-up + cosine schedule and crop/flip
/// augmentation. A checkpoint is written after every epoch; a killed run given the same <paramref name="checkpointDir"/>
/// continues from the last finished epoch and reaches the same weights as an uninterrupted run.
/// </summary>
public sealed class GenericTrainer(GenericTrainingOptions options, string checkpointDir)
{
    private sealed record CheckpointState(int Epoch, int Seed, string Arch, string Optimizer, double Lr, double Wd, int Epochs, int BatchSize, double Seconds, double Holdout = 0);

    /// <summary>Trains on <paramref name="dataset"/> and returns the model with its measured test accuracy.</summary>
    public GenericModel Train(ImageDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        var o = options;
        var device = o.Device ?? CPU;
        var net = PModelNetwork.Create(o.Arch, dataset.NumClasses, o.Seed);
        net.to(device);
        if (o.HoldoutFraction is < 0 or >= 1 || double.IsNaN(o.HoldoutFraction)) throw new TinaException($"The held-out share must be at least 0 and below 1; got {o.HoldoutFraction}.");
        var train = o.HoldoutFraction > 0 ? dataset.WithValidationSplit(o.HoldoutFraction, o.HoldoutSeed).Train : dataset.Train;
        var parameters = net.parameters().ToList();
        using Optimizer opt = o.OptimizerName switch
        {
            "sgd" => new Sgd([new ParameterGroup(parameters, o.Wd)], o.Lr, momentum: 0.9, nesterov: true),
            "adamw" => new AdamW(parameters, o.Lr, o.Wd),
            _ => throw new TinaException($"Unknown optimizer '{o.OptimizerName}'. Use sgd or adamw."),
        };

        int n = train.Count;
        int steps = (n + o.BatchSize - 1) / o.BatchSize;
        long totalSteps = (long)steps * o.Epochs;
        var schedule = new WarmupCosineSchedule(o.Lr, totalSteps, WarmupSteps: Math.Min(steps, totalSteps / 10));
        int startEpoch = 0;
        double seconds = 0;
        Directory.CreateDirectory(checkpointDir);
        var statePath = Path.Combine(checkpointDir, "state.json");
        if (File.Exists(statePath))
        {
            var st = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(statePath), GenericModel.Json)!;
            if (st.Arch != o.Arch.ToName() || st.Seed != o.Seed || st.Optimizer != o.OptimizerName || st.Epochs != o.Epochs || st.BatchSize != o.BatchSize || st.Holdout != o.HoldoutFraction)
                throw new TinaException($"The checkpoint in {checkpointDir} was made with other settings ({st.Arch}, seed {st.Seed}, {st.Optimizer}, {st.Epochs} epochs, batch {st.BatchSize}, held out {st.Holdout}). Delete it or use the same settings.");
            var (tensors, _) = SafeTensors.Load(Path.Combine(checkpointDir, $"model-e{st.Epoch}.safetensors"));
            StateDict.Import(net, tensors, checkpointDir);
            opt.LoadState(Path.Combine(checkpointDir, $"optim-e{st.Epoch}.safetensors"));
            startEpoch = st.Epoch;
            seconds = st.Seconds;
            progress?.Report(new TrainingProgress(startEpoch, o.Epochs, 0, steps, 0, 0, $"resumed after epoch {startEpoch}"));
        }

        // ResNet-18: the backbone runs once over the training images (cached by its feature service), then only the
        // head trains, on those features; no crop/flip augmentation (each augmented view is another backbone pass).
        using var features = o.Arch == PModelArch.ResNet18 ? Accuracy.Features(net, train).to(device) : null;
        var sw = Stopwatch.StartNew();
        using var lossFn = nn.CrossEntropyLoss();
        for (int epoch = startEpoch; epoch < o.Epochs; epoch++)
        {
            net.train();
            // Data order and augmentation depend only on (seed, epoch): a resumed run sees the same batches.
            var rng = new Random(Runtime.Seeds.Derive(o.Seed, epoch, 0x71A));
            var order = Enumerable.Range(0, n).ToArray();
            rng.Shuffle(order);
            double lossSum = 0; long correct = 0, seen = 0;
            for (int s = 0; s < steps; s++)
            {
                cancel.ThrowIfCancellationRequested();
                opt.LearningRate = schedule.At((long)epoch * steps + s);
                var idx = order.AsSpan(s * o.BatchSize, Math.Min(o.BatchSize, n - s * o.BatchSize));
                using var scope = NewDisposeScope();
                var y = tensor(idx.ToArray().Select(i => (long)train.Labels[i]).ToArray()).to(device);
                // A head on a frozen external backbone (ResNet-18) trains on its cached features; the CIFAR networks on images.
                var logits = features is not null
                    ? net.fc.forward(features.index_select(0, tensor(idx.ToArray().Select(i => (long)i).ToArray()).to(device)))
                    : net.forward(Augmentation.ToTensor(train, idx, Normalization.Mean, Normalization.Std, o.Augment ? rng : null).to(device));
                var loss = lossFn.forward(logits, y);
                opt.ZeroGrad();
                loss.backward();
                opt.Step();
                lossSum += loss.item<float>() * idx.Length;
                correct += logits.argmax(1).eq(y).sum().item<long>();
                seen += idx.Length;
                progress?.Report(new TrainingProgress(epoch + 1, o.Epochs, s + 1, steps, lossSum / seen, 100.0 * correct / seen));
            }
            SaveCheckpoint(net, opt, new CheckpointState(epoch + 1, o.Seed, o.Arch.ToName(), o.OptimizerName, o.Lr, o.Wd, o.Epochs, o.BatchSize, seconds + sw.Elapsed.TotalSeconds, o.HoldoutFraction));
        }

        net.eval();
        double acc = Accuracy.TopOne(net, dataset.Test, device);
        double? validation = o.HoldoutFraction > 0 ? Math.Round(Accuracy.TopOne(net, dataset.WithValidationSplit(o.HoldoutFraction, o.HoldoutSeed).Test, device), 2) : null;
        progress?.Report(new TrainingProgress(o.Epochs, o.Epochs, steps, steps, 0, acc,
            $"test accuracy {acc:F2} %" + (validation is { } v ? $", held-out (validation) accuracy {v:F2} %" : "")));
        var card = new GenericModelCard
        {
            Arch = o.Arch.ToName(), Dataset = dataset.Name, Classes = dataset.ClassNames, Epochs = o.Epochs,
            TestAccuracy = Math.Round(acc, 2), Seed = o.Seed,
            Optimizer = $"{o.OptimizerName} lr {o.Lr} wd {o.Wd}, batch {o.BatchSize}, warm-up + cosine, {(o.Augment && features is null ? "crop+flip" : "no augmentation")}",
            TrainSeconds = Math.Round(seconds + sw.Elapsed.TotalSeconds, 1),
            HoldoutFraction = o.HoldoutFraction, HoldoutSeed = o.HoldoutSeed, ValidationAccuracy = validation,
            ImageSize = o.Arch.InputSize(),
            Backbone = o.Arch == PModelArch.ResNet18 ? ((ResNet18Head)net).Backbone.Backbone.Identity : null,
        };
        net.to(CPU);
        return new GenericModel(net, card);
    }

    private void SaveCheckpoint(PModelNetwork net, Optimizer opt, CheckpointState state)
    {
        int e = state.Epoch;
        SafeTensors.Save(Path.Combine(checkpointDir, $"model-e{e}.safetensors"), StateDict.Export(net));
        opt.SaveState(Path.Combine(checkpointDir, $"optim-e{e}.safetensors"));
        // state.json is the commit point: it only names files that are completely written.
        AtomicFile.WriteAllText(Path.Combine(checkpointDir, "state.json"), JsonSerializer.Serialize(state, GenericModel.Json));
        foreach (var old in Directory.GetFiles(checkpointDir, "*-e*.*"))
        {
            var name = Path.GetFileName(old);
            if (!name.Contains($"-e{e}.")) File.Delete(old);
        }
    }
}
