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
    private readonly HashSet<int>? _pool; // classes training tasks may use; null: all

    /// <summary>Creates a sampler of <paramref name="classesPerTask"/>-class tasks over <paramref name="dataset"/>.</summary>
    public TaskSampler(ImageDataset dataset, int classesPerTask = 10, int seed = 0) : this(dataset, classesPerTask, classesPerTask, seed)
    {
    }

    /// <summary>
    /// Creates a sampler of tasks with <paramref name="minClasses"/> to <paramref name="maxClasses"/> classes over
    /// <paramref name="dataset"/>, every count equally often.
    /// </summary>
    public TaskSampler(ImageDataset dataset, int minClasses, int maxClasses, int seed) : this(dataset, minClasses, maxClasses, seed, null)
    {
    }

    /// <summary>
    /// Creates a sampler whose <see cref="Draw"/> uses only the classes of <paramref name="pool"/> (all when null) —
    /// the seen classes of a zoo with held-out classes (<see cref="HeldOutClasses"/>).
    /// </summary>
    public TaskSampler(ImageDataset dataset, int minClasses, int maxClasses, int seed, IReadOnlyCollection<int>? pool)
    {
        int available = pool?.Count ?? dataset.NumClasses;
        if (minClasses < 2 || maxClasses > available || minClasses > maxClasses)
            throw new TinaException($"Tasks need between 2 and {available} classes, the minimum not above the maximum; got {minClasses}–{maxClasses}.");
        if (pool is not null && pool.Any(c => c < 0 || c >= dataset.NumClasses)) throw new TinaException($"A class of the pool is not a class of {dataset.Name}.");
        _pool = pool?.ToHashSet();
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
        var sizes = Sizes(count);
        var result = new List<SampledTask>(count);
        foreach (var (wanted, k) in kinds.Take(count).Zip(sizes))
        {
            var kind = wanted;
            for (int attempt = 0; ; attempt++)
            {
                // CIFAR-100 has only C(20,2) = 190 two-superclass sets: once they run out, draw a shared-superclass task.
                if (kind == TaskKind.TwoSuperclasses && attempt > 200) kind = TaskKind.SharedSuperclass;
                // With a restricted pool a superclass may lack the classes a kind needs: fall back to wider kinds.
                if (_pool is not null && attempt > 400) kind = attempt > 600 ? TaskKind.Random : TaskKind.DistinctSuperclasses;
                if (attempt > 1000) throw new TinaException($"Could not draw a new distinct task of kind {kind} after 1000 attempts; ask for fewer tasks.");
                var classes = kind switch
                {
                    TaskKind.DistinctSuperclasses => Distinct(k, exclude: -1),
                    TaskKind.SharedSuperclass => Shared(k),
                    TaskKind.TwoSuperclasses => TwoSupers(k),
                    _ => LeastUsed(Enumerable.Range(0, _data.NumClasses).Where(InPool), k),
                };
                if (classes.Length != k || !_seen.Add(string.Join(",", classes.Order()))) continue;
                _rng.Shuffle(classes);
                foreach (var c in classes) _uses[c]++;
                result.Add(new SampledTask(new PersonalizationTask(classes, classes.Select(c => _data.ClassNames[c]).ToArray()), kind));
                break;
            }
        }
        return result;
    }

    /// <summary>
    /// Draws <paramref name="count"/> new held-out tasks in which a share <paramref name="unseenRatio"/> of the classes
    /// (rounded, at least one when the ratio is above 0) comes from <paramref name="unseen"/> and the rest from the
    /// sampler's pool. Classes are the least-used of each side (no superclass structure, so every ratio is drawn alike).
    /// </summary>
    public IReadOnlyList<SampledTask> DrawWithUnseen(int count, IReadOnlyCollection<int> unseen, double unseenRatio)
    {
        ArgumentNullException.ThrowIfNull(unseen);
        if (unseenRatio is < 0 or > 1 || double.IsNaN(unseenRatio)) throw new TinaException($"The unseen share of a task must be between 0 and 1; got {unseenRatio}.");
        var seen = Enumerable.Range(0, _data.NumClasses).Where(c => InPool(c) && !unseen.Contains(c)).ToArray();
        var result = new List<SampledTask>(count);
        foreach (var k in Sizes(count))
        {
            int u = UnseenCount(k, unseenRatio);
            if (u > unseen.Count || k - u > seen.Length) throw new TinaException($"A {k}-class task with {u} unseen classes needs {u} unseen and {k - u} seen classes; there are {unseen.Count} and {seen.Length}.");
            for (int attempt = 0; ; attempt++)
            {
                if (attempt > 1000) throw new TinaException($"Could not draw a new distinct {k}-class task with {u} unseen classes after 1000 attempts; ask for fewer tasks.");
                var classes = LeastUsed(unseen, u).Concat(LeastUsed(seen, k - u)).ToArray();
                if (!_seen.Add(string.Join(",", classes.Order()))) continue;
                _rng.Shuffle(classes);
                foreach (var c in classes) _uses[c]++;
                result.Add(new SampledTask(new PersonalizationTask(classes, classes.Select(c => _data.ClassNames[c]).ToArray()), TaskKind.Random));
                break;
            }
        }
        return result;
    }

    /// <summary>Unseen classes of a <paramref name="classes"/>-class task with unseen share <paramref name="ratio"/>: rounded, at least 1 when the ratio is above 0.</summary>
    public static int UnseenCount(int classes, double ratio) => ratio <= 0 ? 0 : Math.Clamp((int)Math.Round(ratio * classes, MidpointRounding.AwayFromZero), 1, classes);

    /// <summary>
    /// The classes a zoo keeps out of every training task: a seeded share <paramref name="fraction"/> of the dataset's
    /// classes, sorted. With superclasses each superclass gives up about the same share, so a held-out class keeps
    /// similar seen siblings (the paper separates apple from orange, bear from lion, boy from man).
    /// </summary>
    public static int[] HeldOutClasses(ImageDataset dataset, double fraction, int seed)
    {
        if (fraction is <= 0 or >= 1 || double.IsNaN(fraction)) throw new TinaException($"The held-out share of classes must be above 0 and below 1; got {fraction}.");
        int n = dataset.NumClasses, count = (int)Math.Round(fraction * n, MidpointRounding.AwayFromZero);
        if (count < 2 || n - count < 2) throw new TinaException($"Holding out {fraction:P0} of {n} classes leaves fewer than 2 on a side.");
        var rng = new Random(Tina.Runtime.Seeds.Derive(seed, 0x0C1A55));
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        // Rank of each class inside its superclass (in the shuffled order); taking low ranks first spreads the held-out classes.
        var rank = new int[n];
        if (dataset.ClassToSuperclass is { } super)
        {
            var next = new Dictionary<int, int>();
            foreach (var c in order)
            {
                rank[c] = next.GetValueOrDefault(super[c]);
                next[super[c]] = rank[c] + 1;
            }
        }
        return order.Select((c, i) => (c, i)).OrderBy(p => rank[p.c]).ThenBy(p => p.i).Take(count).Select(p => p.c).Order().ToArray();
    }

    private List<int> Sizes(int count)
    {
        var sizes = new List<int>();
        while (sizes.Count < count)
        {
            var block = Enumerable.Range(_min, _max - _min + 1).ToArray();
            if (block.Length > 1) _rng.Shuffle(block); // one count: no draw, so fixed-count zoos keep their tasks
            sizes.AddRange(block);
        }
        return sizes.Take(count).ToList();
    }

    private bool InPool(int c) => _pool?.Contains(c) ?? true;

    /// <summary>n least-used classes of <paramref name="pool"/>, random among equals.</summary>
    private int[] LeastUsed(IEnumerable<int> pool, int n) =>
        pool.Select(c => (c, key: _uses[c] + _rng.NextDouble())).OrderBy(p => p.key).Take(n).Select(p => p.c).ToArray();

    private IEnumerable<int> ClassesOf(int super) => Enumerable.Range(0, _data.NumClasses).Where(c => _data.ClassToSuperclass![c] == super && InPool(c));

    /// <summary>Superclasses (with at least <paramref name="minClasses"/> classes in the pool) ordered by the use of their least-used class, random among equals.</summary>
    private int[] SupersByNeed(int exclude, int minClasses = 1) =>
        Enumerable.Range(0, _data.SuperclassNames!.Count).Where(s => s != exclude && ClassesOf(s).Count() >= minClasses)
            .Select(s => (s, key: ClassesOf(s).Min(c => _uses[c]) + _rng.NextDouble())).OrderBy(p => p.key).Select(p => p.s).ToArray();

    private int[] Distinct(int n, int exclude) =>
        SupersByNeed(exclude).Take(n).Select(s => LeastUsed(ClassesOf(s), 1)[0]).ToArray();

    private int[] Shared(int k)
    {
        var candidates = SupersByNeed(-1, minClasses: 2);
        if (candidates.Length == 0) return [];
        int super = candidates[0];
        int m = _rng.Next(2, Math.Min(Math.Min(5, k), ClassesOf(super).Count()) + 1);
        return LeastUsed(ClassesOf(super), m).Concat(Distinct(k - m, super)).ToArray();
    }

    private int[] TwoSupers(int k)
    {
        var supers = SupersByNeed(-1);
        if (supers.Length < 2) return [];
        int a = supers[0], b = supers[1 + _rng.Next(supers.Length - 1)];
        int fromA = k / 2;
        return LeastUsed(ClassesOf(a), fromA).Concat(LeastUsed(ClassesOf(b), k - fromA)).ToArray();
    }
}
