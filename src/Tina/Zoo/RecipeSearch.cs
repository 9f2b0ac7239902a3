using Tina.Data;
using Tina.Evaluation;
using Tina.Generic;
using Tina.PModels;
using Tina.Runtime;
using Tina.Tasks;

namespace Tina.Zoo;

/// <summary>One fine-tuning recipe tried by <see cref="RecipeSearch"/>.</summary>
/// <param name="Options">The recipe.</param>
/// <param name="PAcc">Mean p-Acc (%) of its p-Models on the validation split.</param>
/// <param name="Std">Standard deviation over tasks.</param>
/// <param name="Seconds">Wall-clock seconds to fine-tune the tasks.</param>
public sealed record RecipeTrial(FineTuneOptions Options, double PAcc, double Std, double Seconds);

/// <summary>What a recipe search measured.</summary>
/// <param name="Tasks">The tasks every recipe was fine-tuned on.</param>
/// <param name="ClassifierSelection">p-Acc (%) of classifier selection on the same tasks and validation images.</param>
/// <param name="Trials">Every recipe, in the order tried.</param>
/// <param name="UnseenByGeneric">Whether the validation images were held out from stage 1 (the generic model never saw them).</param>
public sealed record RecipeSearchResult(IReadOnlyList<PersonalizationTask> Tasks, double ClassifierSelection, IReadOnlyList<RecipeTrial> Trials, bool UnseenByGeneric = false)
{
    /// <summary>The recipe with the highest validation p-Acc (the first one on a tie).</summary>
    public RecipeTrial Best => Trials.Aggregate((a, b) => b.PAcc > a.PAcc ? b : a);
}

/// <summary>
/// Chooses the stage-2 fine-tuning recipe without the test split: a seeded fraction of every class's training
/// images is held out as a validation split, p-Models of the same sampled tasks are fine-tuned on the rest with every
/// candidate recipe, and each recipe is scored by the p-Acc of its p-Models on the validation images, next to
/// classifier selection on the same images. When the generic model was trained with a held-out share
/// (<see cref="GenericModelCard.HoldoutFraction"/>), exactly those images are the validation split, so classifier
/// selection and the recipes are compared on images no stage saw. Otherwise the generic model saw the validation images
/// in stage 1, which flatters classifier selection (its rows were fitted to them) the more the better it is trained.
/// </summary>
public static class RecipeSearch
{
    /// <summary>
    /// The validation split for settings chosen with <paramref name="generic"/>: its held-out images when it was trained
    /// with a held-out share (no stage saw them), otherwise a seeded <paramref name="fraction"/> of each class's
    /// training images.
    /// </summary>
    public static ValidationSplit Split(GenericModel generic, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(generic);
        return generic.Card.HoldoutFraction > 0 ? new ValidationSplit(generic.Card.HoldoutFraction, generic.Card.HoldoutSeed) : new ValidationSplit(fraction, seed);
    }

    /// <summary>Fine-tunes <paramref name="taskCount"/> tasks of <paramref name="minClasses"/>–<paramref name="maxClasses"/> classes with each recipe.</summary>
    public static RecipeSearchResult Run(GenericModel generic, ImageDataset data, IReadOnlyList<FineTuneOptions> candidates, int taskCount,
        int minClasses = 2, int maxClasses = 10, double validationFraction = 0.1, int seed = 0,
        IProgress<(int Recipe, double Fraction)>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        if (candidates.Count == 0) throw new TinaException("Give at least one recipe to try.");
        if (taskCount < 1) throw new TinaException($"A recipe search needs at least one task; got {taskCount}.");
        // A generic model trained with a held-out share validates on exactly those images.
        bool unseen = generic.Card.HoldoutFraction > 0;
        var val = Split(generic, validationFraction, seed).Apply(data);
        var tasks = new TaskSampler(val, minClasses, maxClasses, seed).Draw(taskCount).Select(t => t.Task).ToList();
        double cs;
        using (var selection = new ClassifierSelectionMethod(generic, val.Test))
            cs = PAcc.Evaluate(selection, tasks, val.Test, cancel: cancel).Mean;
        // Head-only p-Models train on backbone features: computed once per number of augmented views.
        var features = new Dictionary<int, (TorchSharp.torch.Tensor Train, TorchSharp.torch.Tensor Test)>();
        try
        {
            var trials = new List<RecipeTrial>();
            for (int r = 0; r < candidates.Count; r++)
            {
                var o = candidates[r];
                var sw = System.Diagnostics.Stopwatch.StartNew();
                (TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)? shared = null;
                if (generic.Arch.IsHeadOnly())
                {
                    if (!features.TryGetValue(o.AugmentedViews, out var f)) features[o.AugmentedViews] = f = FineTuner.HeadFeatures(generic, val, o.AugmentedViews);
                    shared = f;
                }
                using var tuner = new FineTuner(generic, val, o, shared);
                var pacc = new List<double>();
                int group = Math.Max(1, o.ModelsPerGroup);
                for (int first = 0; first < tasks.Count; first += group)
                {
                    cancel.ThrowIfCancellationRequested();
                    var chunk = tasks.Skip(first).Take(group).Select((t, i) => (t, Seeds.Derive(seed, first + i, 0x5EA))).ToList();
                    pacc.AddRange(tuner.Train(chunk, cancel).Select(f => f.PAcc));
                    progress?.Report((r, (double)pacc.Count / tasks.Count));
                }
                double mean = pacc.Average();
                trials.Add(new RecipeTrial(o, mean, Math.Sqrt(pacc.Select(a => (a - mean) * (a - mean)).Average()), sw.Elapsed.TotalSeconds));
            }
            return new RecipeSearchResult(tasks, cs, trials, unseen);
        }
        finally
        {
            foreach (var (train, test) in features.Values)
            {
                train.Dispose();
                test.Dispose();
            }
        }
    }
}
