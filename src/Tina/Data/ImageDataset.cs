
namespace Tina.Data;

/// <summary>
/// A classification dataset resized to 32×32 RGB: class names as shown to users (e.g. "aquarium fish", not
/// "aquarium_fish"), a train and a test split, and for CIFAR-100 the 20 superclasses.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>Creates the dataset; checks labels against the class list.</summary>
    public ImageDataset(string name, IReadOnlyList<string> classNames, ImageSet train, ImageSet test,
        IReadOnlyList<string>? superclassNames = null, int[]? classToSuperclass = null)
    {
        Name = name;
        ClassNames = classNames;
        Train = train;
        Test = test;
        SuperclassNames = superclassNames;
        ClassToSuperclass = classToSuperclass;
        foreach (var set in new[] { train, test })
            foreach (var l in set.Labels)
                if ((uint)l >= (uint)classNames.Count)
                    throw new ArgumentException($"Label {l} is outside the {classNames.Count} classes of {name}.");
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classNames.Count; i++) _index.TryAdd(ClassName.Key(classNames[i]), i);
        if (DatasetCatalog.TryResolve(name, out var descriptor))
            foreach (var (a, b) in descriptor.ClassSynonyms)
            {
                string ka = ClassName.Key(a), kb = ClassName.Key(b);
                if (_index.TryGetValue(ka, out var ia)) _index.TryAdd(kb, ia);
                else if (_index.TryGetValue(kb, out var ib)) _index.TryAdd(ka, ib);
            }
    }

    private readonly Dictionary<string, int> _index;

    /// <summary>Dataset id, e.g. <c>cifar100</c>.</summary>
    public string Name { get; }

    /// <summary>Class names, indexed by label.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Training split.</summary>
    public ImageSet Train { get; }

    /// <summary>Test split (CIFAR-100's official test set; a seeded 20 % for Caltech-101; val for Mini-ImageNet).</summary>
    public ImageSet Test { get; }

    /// <summary>Superclass names (CIFAR-100's 20 coarse labels), or null.</summary>
    public IReadOnlyList<string>? SuperclassNames { get; }

    /// <summary>Superclass of each class, or null.</summary>
    public int[]? ClassToSuperclass { get; }

    /// <summary>
    /// For a merged vocabulary (<see cref="Vocabulary.Merge"/>): the datasets each class's images come from, its home
    /// dataset (the first that has it) first; null for a single dataset.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>>? ClassSources { get; init; }

    /// <summary>Number of classes.</summary>
    public int NumClasses => ClassNames.Count;

    /// <summary>
    /// For choosing settings without touching the test split: a dataset whose training split is this one's minus a
    /// seeded <paramref name="fraction"/> of every class's training images, and whose test split is that held-out part
    /// (the validation split). The real test split is not used.
    /// </summary>
    public ImageDataset WithValidationSplit(double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), $"The validation fraction must be in (0, 1); got {fraction}.");
        var rng = new Random(seed);
        var train = new List<int>();
        var val = new List<int>();
        for (int c = 0; c < NumClasses; c++)
        {
            var ofClass = Train.IndicesOf(new HashSet<int> { c });
            rng.Shuffle(ofClass);
            int n = (int)Math.Round(ofClass.Length * fraction);
            val.AddRange(ofClass[..n]);
            train.AddRange(ofClass[n..]);
        }
        train.Sort();
        val.Sort();
        return new ImageDataset(Name, ClassNames, Train.Subset(train), Train.Subset(val), SuperclassNames, ClassToSuperclass) { ClassSources = ClassSources };
    }

    /// <summary>
    /// A smaller copy for quick runs: the first <paramref name="trainPerClass"/> training images of every class (in the
    /// archive's order) and, when <paramref name="testPerClass"/> is set, the first that many test images of every
    /// class. Named <c>{Name}@{train}</c> or <c>{Name}@{train}+{test}</c>, the spelling <see cref="ParseSubset"/> reads,
    /// so a zoo or model made on it records where it came from. The images are cut with <see cref="ImageSet.Subset"/>
    /// (per-image results of the full splits serve them).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is below 1.</exception>
    public ImageDataset PerClassSubset(int trainPerClass, int? testPerClass = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trainPerClass, 1);
        if (testPerClass is { } t) ArgumentOutOfRangeException.ThrowIfLessThan(t, 1, nameof(testPerClass));
        return new ImageDataset($"{Name}@{trainPerClass}{(testPerClass is { } n ? $"+{n}" : "")}", ClassNames,
            FirstOfEachClass(Train, trainPerClass), testPerClass is { } tp ? FirstOfEachClass(Test, tp) : Test, SuperclassNames, ClassToSuperclass) { ClassSources = ClassSources };
    }

    /// <summary>
    /// Splits a dataset name into its id and the per-class limits of <see cref="PerClassSubset"/>: <c>cifar100</c>
    /// (no limits), <c>cifar100@200</c> (200 training images per class) or <c>cifar100@200+50</c> (and 50 test images).
    /// </summary>
    /// <exception cref="TinaException">The suffix is not one or two positive integers.</exception>
    public static (string Id, int? TrainPerClass, int? TestPerClass) ParseSubset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        int at = name.IndexOf('@');
        if (at < 0) return (name, null, null);
        var parts = name[(at + 1)..].Split('+');
        int? Count(string text) => int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new TinaException($"'{name}': after '@' give the training images per class, optionally '+' and the test images per class (e.g. cifar100@200+50).");
        if (parts.Length > 2) Count("");
        return (name[..at], Count(parts[0]), parts.Length == 2 ? Count(parts[1]) : null);
    }

    private static ImageSet FirstOfEachClass(ImageSet set, int perClass)
    {
        var counts = new Dictionary<int, int>();
        var keep = new List<int>();
        for (int i = 0; i < set.Count; i++)
        {
            int seen = counts.GetValueOrDefault(set.Labels[i]);
            if (seen < perClass) keep.Add(i);
            counts[set.Labels[i]] = seen + 1;
        }
        return set.Subset(keep);
    }

    /// <summary>The label of <paramref name="name"/> as <see cref="ClassIndex"/> resolves it, or null when the dataset has no such class.</summary>
    public int? TryClassIndex(string name) => _index.TryGetValue(ClassName.Key(name), out var i) ? i : null;

    /// <summary>
    /// Every name that resolves to label <paramref name="label"/>: its class name first, then the dataset's synonyms
    /// of it (<see cref="DatasetDescriptor.ClassSynonyms"/>).
    /// </summary>
    public IReadOnlyList<string> NamesOf(int label)
    {
        var names = new List<string> { ClassNames[label] };
        if (DatasetCatalog.TryResolve(Name, out var d))
            foreach (var (a, b) in d.ClassSynonyms)
                foreach (var n in new[] { a, b })
                    if (TryClassIndex(n) == label && !names.Any(x => ClassName.Key(x) == ClassName.Key(n))) names.Add(n);
        return names;
    }

    /// <summary>
    /// Resolves a class name to its label. Names are compared by <see cref="ClassName.Key"/> — ignoring case and extra
    /// whitespace, with '_' the same as a space ("Maple Tree", "maple_tree" and "maple tree" are one class) — and the
    /// dataset's <see cref="DatasetDescriptor.ClassSynonyms"/> are accepted (CIFAR-100: "maple tree" for "maple").
    /// </summary>
    /// <exception cref="InvalidPromptException">The dataset has no such class; the message suggests close names.</exception>
    public int ClassIndex(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = ClassName.Key(name);
        if (_index.TryGetValue(key, out var i)) return i;
        var close = ClassNames.Where(c => ClassName.Key(c) is var k && k.Length > 0 && key.Length > 0 && (k.Contains(key, StringComparison.Ordinal) || key.Contains(k, StringComparison.Ordinal)))
            .Take(5).ToList();
        // "apple pear" (a missing comma) names two classes: say so rather than suggesting one of them.
        var words = key.Split(' ');
        var hint = words.Length > 1 && words.All(_index.ContainsKey)
            ? $" Its words are classes of their own: separate classes with commas, e.g. \"{string.Join(", ", words.Select(w => ClassNames[_index[w]]))}\"."
            : close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?"
            : $" Run 'tina data list --classes {Name}' to see them.";
        throw new InvalidPromptException($"Unknown class {ClassName.Show(name)} for dataset {Name}.{hint}");
    }

    /// <summary>Turns a display name from a file ("aquarium_fish") into the user-facing form ("aquarium fish").</summary>
    public static string DisplayName(string raw) => raw.Trim().Replace('_', ' ');
}
