using Tina.Generation;
using Tina.PModels;

namespace Tina.Evaluation.Plan;

/// <summary>
/// What an evaluation measures (the options of <c>tina eval</c>, which builds one of these and hands it to
/// <see cref="Evaluator.Run"/>): which methods, on which tasks of which dataset, with which generator and prompts.
/// Paths are opened by the <see cref="EvaluationEnvironment"/> only when a method needs them.
/// </summary>
public sealed record EvaluationOptions
{
    /// <summary>Dataset id (<c>cifar100</c>, <c>merged</c>, <c>cifar100@200</c>…), opened by <see cref="EvaluationEnvironment.OpenDataset"/>.</summary>
    public string Dataset { get; init; } = "cifar100";

    /// <summary>p-Model architecture of the generic model (and of the zoo, when there is one).</summary>
    public PModelArch Arch { get; init; } = PModelArch.Cnn5k;

    /// <summary>
    /// Method names, resolved by the <see cref="EvaluationMethodRegistry"/> (case-insensitive; default generic and
    /// classifier selection). With <see cref="Ensemble"/> K &gt; 1, <c>tina</c> and <c>tina-ddpm</c> become <c>tina-ensK</c>
    /// and <c>tina-ddpm-ensK</c>.
    /// </summary>
    public IReadOnlyList<string> Methods { get; init; } = ["generic", "classifier-selection"];

    /// <summary>Number of random tasks; with <see cref="Zoo"/>, at most this many per group.</summary>
    public int Tasks { get; init; } = 100;

    /// <summary>Classes per random task.</summary>
    public int ClassesPerTask { get; init; } = 10;

    /// <summary>Seed of the random task sampler (and of the image-shot choice).</summary>
    public int Seed { get; init; }

    /// <summary>A zoo folder: its training tasks are the ID group, its held-out ones the OOD group(s).</summary>
    public string? Zoo { get; init; }

    /// <summary>Another dataset's id: every method is scored on its photos of the classes it shares with <see cref="Dataset"/>.</summary>
    public string? CrossDataset { get; init; }

    /// <summary>A file of class lists, one per line (<see cref="Tina.Tasks.PromptFile"/>): the tasks, reported per list.</summary>
    public string? PromptsFile { get; init; }

    /// <summary>Generator checkpoint folder (for the tina methods and splices).</summary>
    public string? Generator { get; init; }

    /// <summary>DDIM steps of the <c>tina</c> methods; null: the generator's default.</summary>
    public int? DdimSteps { get; init; }

    /// <summary>Seed-ensemble size K of the tina methods and splices (1 to <see cref="PModelEnsemble.MaxMembers"/>).</summary>
    public int Ensemble { get; init; } = 1;

    /// <summary>
    /// Diagnostic splices, each <c>BODY/CLASSIFIER</c> (parts <c>tina</c>, <c>finetune</c> or <c>classifier-selection</c>,
    /// one of them tina): scored after the other methods as <c>body:BODY+classifier:CLASSIFIER</c>.
    /// </summary>
    public IReadOnlyList<string> Splices { get; init; } = [];

    /// <summary>What the text-conditioned methods see per class: its name or its built-in description.</summary>
    public PromptKind PromptKind { get; init; } = PromptKind.Names;

    /// <summary>A file of <c>class&lt;TAB&gt;text</c> lines: the text each listed class is conditioned on.</summary>
    public string? ClassTextsFile { get; init; }

    /// <summary>Image prompts: the tina methods see this many training images per class instead of its text (0: text).</summary>
    public int ImageShots { get; init; }

    /// <summary>Image-prompt projector file; null: <see cref="ImagePrompts.ImagePromptProjector.DefaultPath"/> in the artifacts folder.</summary>
    public string? Projector { get; init; }

    /// <summary>Generic model file; null: <see cref="Generic.GenericModel.DefaultPath"/> in the artifacts folder.</summary>
    public string? GenericModel { get; init; }
}
