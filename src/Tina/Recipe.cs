using Tina.Diffusion;
using Tina.PModels;

namespace Tina;

/// <summary>The stage-2 half of a <see cref="Recipe"/>: the tasks of the zoo and how each p-Model is fine-tuned.</summary>
public sealed record ZooRecipe
{
    /// <summary>Training (ID) tasks.</summary>
    public required int TrainTasks { get; init; }

    /// <summary>Held-out (OOD) tasks.</summary>
    public required int OodTasks { get; init; }

    /// <summary>Fewest classes of a task (every count from this to <see cref="MaxClasses"/> equally often).</summary>
    public required int MinClasses { get; init; }

    /// <summary>Most classes of a task.</summary>
    public required int MaxClasses { get; init; }

    /// <summary>Fine-tuning epochs per p-Model.</summary>
    public required int Epochs { get; init; }

    /// <summary>Peak SGD learning rate of the fine-tuning.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Images per fine-tuning step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>p-Models fine-tuned at once (a speed setting: the p-Models do not depend on it).</summary>
    public required int ModelsPerGroup { get; init; }
}

/// <summary>The stage-3 half of a <see cref="Recipe"/>: how the generator is trained and sampled.</summary>
public sealed record GeneratorRecipe
{
    /// <summary>Transformer size preset (<c>TinaTrainingOptions.ConfigName</c>).</summary>
    public required string Config { get; init; }

    /// <summary>Epochs over the zoo's training p-Models.</summary>
    public required int Epochs { get; init; }

    /// <summary>p-Models per step.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Peak AdamW learning rate.</summary>
    public required double LearningRate { get; init; }

    /// <summary>Parameter normalisation before diffusion.</summary>
    public required ParameterNormalization Normalization { get; init; }

    /// <summary>How the x0 loss weighs the parameters.</summary>
    public required LossWeighting LossWeighting { get; init; }

    /// <summary>How the classifier is cut into tokens.</summary>
    public required TokenLayout Tokens { get; init; }

    /// <summary>DDIM steps when a generation leaves them unset (<c>TinaGenerator.DefaultDdimSteps</c>).</summary>
    public required int DdimSteps { get; init; }

    /// <summary>What the classifier rows are generated from (name prompts; other prompt kinds generate the rows themselves).</summary>
    public RowStart Start { get; init; } = RowStart.None;

    /// <summary>The share of training samples blended with another (<see cref="Diffusion.TaskMixup"/>); 0: none, as the paper.</summary>
    public double TaskMixup { get; init; }
}

/// <summary>
/// A complete, named set of zoo and generator settings for one p-Model architecture: what <c>tina zoo build</c> and
/// <c>tina train</c> use unless an option overrides a value, recorded in the zoo's manifest and the generator's
/// checkpoint (<c>ZooBuildOptions.FromRecipe</c>, <c>TinaTrainingOptions.FromRecipe</c>). The recipes are data on the
/// lower layers' types only, so the zoo and the generator can read them without a cycle. Each recipe is the set of
/// settings whose result docs/RESULTS.md reports (<see cref="Recipes"/>).
/// </summary>
/// <param name="Name">The recipe's name (<c>--recipe NAME</c>).</param>
/// <param name="Arch">The p-Model architecture it is for.</param>
/// <param name="Description">One line: what it is and the result it gave.</param>
/// <param name="Zoo">Stage 2: the zoo.</param>
/// <param name="Generator">Stage 3: the generator.</param>
public sealed record Recipe(string Name, PModelArch Arch, string Description, ZooRecipe Zoo, GeneratorRecipe Generator);

/// <summary>The recipes owned by the library, by name and by architecture; the one place their defaults live.</summary>
public static class Recipes
{
    /// <summary>
    /// <c>resnet18-heads</c>, the product default for ML.NET's ResNet-18: heads fine-tuned gently (lr 0.005, 10 epochs:
    /// the <c>tina zoo tune</c> winner), a generator on per-tensor normalised parameters (unnormalised it learned little:
    /// 55.69 % against 92.67 % OOD on a validation zoo), sampled with DDIM-2 (92.65 % against DDIM-50's 92.67 %),
    /// each row generated from its text-to-rows start (<see cref="RowStart.TextToRows"/>: lists of unseen words +1.75
    /// points on a validation zoo over two seeds, +3.64 on the merged vocabulary; seen lists the same), trained with
    /// task mixup at 0.5 (<see cref="Diffusion.TaskMixup"/>: lists of unseen words +11 points on the validation zoo
    /// over two seeds, +10.2 on CIFAR-100's and +5.7 on the merged vocabulary's test lists; seen lists the same).
    /// OOD p-Acc 92.10 % against classifier selection's 92.24 % (docs/RESULTS.md, ResNet-18 stage 3).
    /// </summary>
    public static Recipe ResNet18Heads { get; } = new("resnet18-heads", PModelArch.ResNet18,
        "ML.NET's ResNet-18 heads (the product): OOD p-Acc 92.10 % (classifier selection 92.24 %)",
        new ZooRecipe { TrainTasks = 1000, OodTasks = 150, MinClasses = 2, MaxClasses = 10, Epochs = 10, LearningRate = 0.005, BatchSize = 64, ModelsPerGroup = 250 },
        new GeneratorRecipe
        {
            Config = "small", Epochs = 30, BatchSize = 16, LearningRate = 1e-3, Normalization = ParameterNormalization.PerTensor,
            LossWeighting = LossWeighting.Classifier, Tokens = TokenLayout.SharedSlots, DdimSteps = 2, Start = RowStart.TextToRows, TaskMixup = 0.5,
        });

    /// <summary>
    /// <c>resnet20-heads</c>, the README's main job on the paper's CIFAR ResNet-20: heads fine-tuned 10 epochs at lr
    /// 0.05 (the quickstart's zoo), the generator of shared slots on raw parameters; OOD p-Acc 78.57 % against
    /// classifier selection's 76.63 % (docs/RESULTS.md, the main job). 30 fine-tuning epochs scored 0.34 points higher
    /// p-Models on a validation split (<c>tina zoo tune</c>), with no generator measured on them.
    /// </summary>
    public static Recipe ResNet20Heads { get; } = new("resnet20-heads", PModelArch.ResNet20,
        "the paper's ResNet-20 heads (the main job): OOD p-Acc 78.57 % (classifier selection 76.63 %)",
        new ZooRecipe { TrainTasks = 1000, OodTasks = 150, MinClasses = 2, MaxClasses = 10, Epochs = 10, LearningRate = 0.05, BatchSize = 64, ModelsPerGroup = 250 },
        new GeneratorRecipe
        {
            Config = "small", Epochs = 30, BatchSize = 16, LearningRate = 1e-3, Normalization = ParameterNormalization.None,
            LossWeighting = LossWeighting.Classifier, Tokens = TokenLayout.SharedSlots, DdimSteps = 50,
        });

    /// <summary>
    /// <c>cnn5k</c>, the paper reproduction on whole CNN-5K networks: the paper's 1,000 + 150 tasks fine-tuned at lr 0.05
    /// for 30 epochs (the lr whose generator scored best on validation zoos), a generator on per-tensor normalised
    /// parameters with per-tensor loss weights, 100 epochs; OOD p-Acc 66.95 % against classifier selection's 69.07 %
    /// (docs/RESULTS.md, "CNN-5K at the paper's size").
    /// </summary>
    public static Recipe Cnn5k { get; } = new("cnn5k", PModelArch.Cnn5k,
        "the paper reproduction on whole CNN-5K networks: OOD p-Acc 66.95 % (classifier selection 69.07 %)",
        new ZooRecipe { TrainTasks = 1000, OodTasks = 150, MinClasses = 2, MaxClasses = 10, Epochs = 30, LearningRate = 0.05, BatchSize = 64, ModelsPerGroup = 8 },
        new GeneratorRecipe
        {
            Config = "small", Epochs = 100, BatchSize = 16, LearningRate = 1e-3, Normalization = ParameterNormalization.PerTensor,
            LossWeighting = LossWeighting.PerTensor, Tokens = TokenLayout.SharedSlots, DdimSteps = 50,
        });

    /// <summary>Every recipe, the product default first.</summary>
    public static IReadOnlyList<Recipe> All { get; } = [ResNet18Heads, ResNet20Heads, Cnn5k];

    /// <summary>The recipe called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="TinaException">No recipe has that name; the message lists the names.</exception>
    public static Recipe Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return All.FirstOrDefault(r => r.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new TinaException($"Unknown recipe '{name}'. Use {string.Join(", ", All.Select(r => r.Name))}.");
    }

    /// <summary>The default recipe of <paramref name="arch"/>: the one recipe for it.</summary>
    public static Recipe For(PModelArch arch) => All.First(r => r.Arch == arch);

    /// <summary>
    /// The recipe a zoo or generator recorded (<paramref name="name"/>), or, when it recorded none (made before recipes)
    /// or one this version does not know, the default recipe of <paramref name="arch"/>.
    /// </summary>
    public static Recipe Recorded(string? name, PModelArch arch) =>
        All.FirstOrDefault(r => r.Arch == arch && r.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) ?? For(arch);
}
