namespace Tina.Zoo;

/// <summary>
/// The settings of a zoo build as a user gives them (the options of <c>tina zoo build</c>): a null count keeps the
/// recipe's, the other values default as the command's options do. <see cref="ToOptions"/> checks them, before
/// anything is loaded, and lays them over the recipe's <see cref="ZooBuildOptions"/>.
/// </summary>
public sealed record ZooBuildSettings
{
    /// <summary>Training (ID) tasks; null: the recipe's.</summary>
    public int? TrainTasks { get; init; }

    /// <summary>Held-out (OOD) tasks; null: the recipe's.</summary>
    public int? OodTasks { get; init; }

    /// <summary>Fine-tuning epochs per p-Model; null: the recipe's.</summary>
    public int? Epochs { get; init; }

    /// <summary>Images per fine-tuning step; null: the recipe's.</summary>
    public int? BatchSize { get; init; }

    /// <summary>p-Models trained at once; null: the recipe's.</summary>
    public int? ModelsPerGroup { get; init; }

    /// <summary>Peak SGD learning rate; null: the recipe's.</summary>
    public double? LearningRate { get; init; }

    /// <summary>Classes per task, the smallest and largest count (equal for one count); null: the recipe's range.</summary>
    public (int Min, int Max)? ClassesPerTask { get; init; }

    /// <summary>Seed of the tasks and the fine-tuning.</summary>
    public int Seed { get; init; }

    /// <summary>Label smoothing of the fine-tuning loss.</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>L2-SP strength toward the generic model's values (0: off).</summary>
    public double L2SP { get; init; }

    /// <summary>CNN-5K: the convolutions' learning rate as a share of the learning rate (1: one rate for all).</summary>
    public double BodyLearningRateScale { get; init; } = 1;

    /// <summary>ResNet-20 heads: precomputed augmented views of the training images (0: none).</summary>
    public int AugmentedViews { get; init; }

    /// <summary>Share of the dataset's classes kept out of every training task, in [0, 1).</summary>
    public double UnseenClassFraction { get; init; }

    /// <summary>Share of each class's training images held out as a validation split, in [0, 1).</summary>
    public double ValidationFraction { get; init; }

    /// <summary>The slice of the task groups to build; null: all of them.</summary>
    public ZooSlice? Slice { get; init; }

    /// <summary>The build options of <paramref name="recipe"/> with these settings over them.</summary>
    /// <exception cref="TinaException">A count or share out of its range; the message names the <c>tina zoo build</c> option.</exception>
    public ZooBuildOptions ToOptions(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var z = recipe.Zoo;
        int trainTasks = TrainTasks ?? z.TrainTasks, oodTasks = OodTasks ?? z.OodTasks, epochs = Epochs ?? z.Epochs, batch = BatchSize ?? z.BatchSize;
        if (UnseenClassFraction is < 0 or >= 1 || double.IsNaN(UnseenClassFraction)) throw new TinaException($"--unseen-classes must be at least 0 and below 1; got {UnseenClassFraction}.");
        if (trainTasks < 1 || oodTasks < 0 || epochs < 1 || AugmentedViews < 0 || batch < 1) throw new TinaException("--tasks, --epochs and --batch-size must be ≥ 1, --ood and --augmented-views ≥ 0.");
        if (L2SP < 0 || double.IsNaN(L2SP)) throw new TinaException($"--l2-sp must be 0 or more; got {L2SP}.");
        if (!(BodyLearningRateScale >= 0)) throw new TinaException($"--body-lr-scale must be 0 or more; got {BodyLearningRateScale}.");
        if (ValidationFraction is < 0 or >= 1 || double.IsNaN(ValidationFraction)) throw new TinaException($"--val-fraction must be at least 0 and below 1; got {ValidationFraction}.");
        var (minClasses, maxClasses) = ClassesPerTask ?? (z.MinClasses, z.MaxClasses);
        var defaults = ZooBuildOptions.FromRecipe(recipe);
        return defaults with
        {
            TrainTasks = trainTasks, OodTasks = oodTasks, Seed = Seed,
            ClassesPerTask = maxClasses, MinClassesPerTask = minClasses,
            FineTune = defaults.FineTune with
            {
                Epochs = epochs, BatchSize = batch, LearningRate = LearningRate ?? z.LearningRate, LabelSmoothing = LabelSmoothing, L2SP = L2SP,
                BodyLearningRateScale = BodyLearningRateScale, ModelsPerGroup = ModelsPerGroup ?? z.ModelsPerGroup, AugmentedViews = AugmentedViews,
            },
            Slice = Slice, UnseenClassFraction = UnseenClassFraction, ValidationFraction = ValidationFraction,
        };
    }
}
