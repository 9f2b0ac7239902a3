using Tina.Data;

namespace Tina.Tasks;

/// <summary>The kind of a CIFAR-100 task (paper, appendix A.1), mixed 3:2:1.</summary>
public enum TaskKind
{
    /// <summary>Every class from a different superclass.</summary>
    DistinctSuperclasses,

    /// <summary>Two to five classes share one superclass; the others come from distinct superclasses.</summary>
    SharedSuperclass,

    /// <summary>All classes come from only two superclasses.</summary>
    TwoSuperclasses,

    /// <summary>No superclass structure (datasets without superclasses).</summary>
    Random,
}

/// <summary>A task with the kind it was drawn as.</summary>
/// <param name="Task">The ordered class list.</param>
/// <param name="Kind">How its classes were chosen.</param>
public sealed record SampledTask(PersonalizationTask Task, TaskKind Kind);

/// <summary>
/// Draws the tasks of a p-Model zoo as the paper does: class frequencies kept balanced (every draw prefers the
/// least-used classes, ties broken at random), random class order inside a task, every task distinct as a set,
/// and held-out (OOD) tasks disjoint from the training tasks as sets. For CIFAR-100 the three kinds of the paper's
/// appendix are mixed 3:2:1; other datasets get balanced random mixes. Tasks may have a range of class counts
/// (sequence padding lets one generator serve them all): the counts then come in shuffled blocks holding every count
/// of the range once, so they are uniform and every prefix of the task list is balanced. Deterministic for a seed.
/// </summary>
public sealed class TaskSampler
{
    private readonly ImageDataset _data;
    private readonly Random _rng;
    private readonly int[] _uses;
    private readonly HashSet<string> _seen = [];
    private readonly int _min, _max;

    /// <summary>Creates a sampler of <paramref name="classesPerTask"/>-class tasks over <paramref name="dataset"/>.</summary>
    public TaskSampler(ImageDataset dataset, int classesPerTask = 10, int seed = 0) : this(dataset, classesPerTask, classesPerTask, seed)
    {
    }

    /// <summary>
    /// Creates a sampler of tasks with <paramref name="minClasses"/> to <paramref name="maxClasses"/> classes over
    /// <paramref name="dataset"/>, every count equally often.
    /// </summary>
    public TaskSampler(ImageDataset dataset, int minClasses, int maxClasses, int seed)
    {
        if (minClasses < 2 || maxClasses > dataset.NumClasses || minClasses > maxClasses)
            throw new TinaException($"Tasks need between 2 and {dataset.NumClasses} classes, the minimum not above the maximum; got {minClasses}–{maxClasses}.");
        _data = dataset;
        _min = minClasses;
        _max = maxClasses;
        _rng = new Random(seed);
        _uses = new int[dataset.NumClasses];
    }

    /// <summary>How often each class has been drawn so far.</summary>
    public IReadOnlyList<int> ClassUses => _uses;

    /// <summary>Draws <paramref name="train"/> training tasks, then <paramref name="ood"/> held-out tasks (disjoint as sets).</summary>
    public (IReadOnlyList<SampledTask> Train, IReadOnlyList<SampledTask> Ood) Split(int train, int ood) => (Draw(train), Draw(ood));

    /// <summary>Draws <paramref name="count"/> new tasks (none equal as a set to any task drawn before).</summary>
    public IReadOnlyList<SampledTask> Draw(int count)
    {
        // The paper's kinds need at most 10 classes (two superclasses of CIFAR-100 hold 10) and enough superclasses.
        bool superclasses = _data.ClassToSuperclass is not null && _max <= 10 && _data.SuperclassNames!.Count >= _max;
        var kinds = new List<TaskKind>();
        // 3:2:1 in blocks of six, shuffled within each block.
        while (kinds.Count < count)
        {
            TaskKind[] block = superclasses
                ? [TaskKind.DistinctSuperclasses, TaskKind.DistinctSuperclasses, TaskKind.DistinctSuperclasses,
                   TaskKind.SharedSuperclass, TaskKind.SharedSuperclass, TaskKind.TwoSuperclasses]
                : [TaskKind.Random, TaskKind.Random, TaskKind.Random, TaskKind.Random, TaskKind.Random, TaskKind.Random];
            _rng.Shuffle(block);
            kinds.AddRange(block);
        }
        var sizes = new List<int>();
        while (sizes.Count < count)
        {
            var block = Enumerable.Range(_min, _max - _min + 1).ToArray();
            if (block.Length > 1) _rng.Shuffle(block); // one count: no draw, so fixed-count zoos keep their tasks
            sizes.AddRange(block);
        }
        var result = new List<SampledTask>(count);
        foreach (var (wanted, k) in kinds.Take(count).Zip(sizes))
        {
            var kind = wanted;
            for (int attempt = 0; ; attempt++)
            {
                // CIFAR-100 has only C(20,2) = 190 two-superclass sets: once they run out, draw a shared-superclass task.
                if (kind == TaskKind.TwoSuperclasses && attempt > 200) kind = TaskKind.SharedSuperclass;
                if (attempt > 1000) throw new TinaException($"Could not draw a new distinct task of kind {kind} after 1000 attempts; ask for fewer tasks.");
                var classes = kind switch
                {
                    TaskKind.DistinctSuperclasses => Distinct(k, exclude: -1),
                    TaskKind.SharedSuperclass => Shared(k),
                    TaskKind.TwoSuperclasses => TwoSupers(k),
                    _ => LeastUsed(Enumerable.Range(0, _data.NumClasses), k),
                };
                if (!_seen.Add(string.Join(",", classes.Order()))) continue;
                _rng.Shuffle(classes);
                foreach (var c in classes) _uses[c]++;
                result.Add(new SampledTask(new PersonalizationTask(classes, classes.Select(c => _data.ClassNames[c]).ToArray()), kind));
                break;
            }
        }
        return result;
    }

    /// <summary>n least-used classes of <paramref name="pool"/>, random among equals.</summary>
    private int[] LeastUsed(IEnumerable<int> pool, int n) =>
        pool.Select(c => (c, key: _uses[c] + _rng.NextDouble())).OrderBy(p => p.key).Take(n).Select(p => p.c).ToArray();

    private IEnumerable<int> ClassesOf(int super) => Enumerable.Range(0, _data.NumClasses).Where(c => _data.ClassToSuperclass![c] == super);

    /// <summary>Superclasses ordered by the use of their least-used class, random among equals.</summary>
    private int[] SupersByNeed(int exclude) =>
        Enumerable.Range(0, _data.SuperclassNames!.Count).Where(s => s != exclude)
            .Select(s => (s, key: ClassesOf(s).Min(c => _uses[c]) + _rng.NextDouble())).OrderBy(p => p.key).Select(p => p.s).ToArray();

    private int[] Distinct(int n, int exclude) =>
        SupersByNeed(exclude).Take(n).Select(s => LeastUsed(ClassesOf(s), 1)[0]).ToArray();

    private int[] Shared(int k)
    {
        int super = SupersByNeed(-1)[0];
        int m = _rng.Next(2, Math.Min(Math.Min(5, k), ClassesOf(super).Count()) + 1);
        return LeastUsed(ClassesOf(super), m).Concat(Distinct(k - m, super)).ToArray();
    }

    private int[] TwoSupers(int k)
    {
        var supers = SupersByNeed(-1);
        int a = supers[0], b = supers[1 + _rng.Next(supers.Length - 1)];
        int fromA = k / 2;
        return LeastUsed(ClassesOf(a), fromA).Concat(LeastUsed(ClassesOf(b), k - fromA)).ToArray();
    }
}
