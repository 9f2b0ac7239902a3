using System.Collections.ObjectModel;
using Tina.Data;

namespace Tina.Text;

/// <summary>
/// Natural-language descriptions of dataset classes that never name the class ("a youthful male person" for
/// <c>boy</c>), the stand-in for the paper's GPT-4 descriptions (Sec. 4, "natural language descriptions as prompts",
/// appendix A.2). They are WordNet 3.0 definitions, produced and reviewed by <c>scripts/make-descriptions.py</c> and
/// stored in <c>data/descriptions/{cifar100,miniimagenet}.tsv</c>; the same two files are embedded in this assembly
/// (<see cref="LoadBuiltIn"/>).
/// </summary>
/// <remarks>
/// File format: UTF-8, one class per line, tab-separated <c>class</c>, <c>synset_offset</c> (the WordNet 3.0 noun
/// offset, 8 digits), <c>description</c>; an optional first line <c>class&lt;TAB&gt;synset_offset&lt;TAB&gt;description</c>
/// is a header. Lookups in the returned dictionaries ignore case, surrounding blanks and the difference between
/// '_' and ' ' (<c>"Aquarium_Fish"</c> finds <c>"aquarium fish"</c>); the keys are the names as written in the file.
/// </remarks>
public static class ClassDescriptions
{
    /// <summary>The datasets with descriptions (dataset ids of <see cref="DatasetCatalog"/>).</summary>
    public static IReadOnlyList<string> Datasets { get; } = ["cifar100", "miniimagenet"];

    /// <summary>Folder of the description files inside the repository.</summary>
    public const string RepoFolder = "data/descriptions";

    /// <summary>The comparer of class names used by the returned dictionaries: case-insensitive, '_' = ' ', trimmed.</summary>
    public static IEqualityComparer<string> NameComparer { get; } = new ClassNameComparer();

    /// <summary>Reads a description file into class name → description.</summary>
    /// <param name="tsvPath">A <c>.tsv</c> file in the format described on <see cref="ClassDescriptions"/>.</param>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">A line does not have three fields, a name or description is empty,
    /// or two lines name the same class.</exception>
    public static IReadOnlyDictionary<string, string> Load(string tsvPath)
    {
        ArgumentNullException.ThrowIfNull(tsvPath);
        if (!File.Exists(tsvPath))
            throw new TinaFileNotFoundException(tsvPath,
                $"Class descriptions are in the repository's {RepoFolder}/ folder; regenerate them with " +
                "'/usr/bin/python3 scripts/make-descriptions.py' (needs the Debian package wordnet-base).");
        string text;
        try { text = File.ReadAllText(tsvPath); }
        catch (IOException e) { throw new CorruptFileException(tsvPath, e.Message, e); }
        return Parse(text, tsvPath);
    }

    /// <summary>
    /// The description file of a dataset under a folder: the first of <c>{dir}/data/descriptions/{dataset}.tsv</c>
    /// (a repository root), <c>{dir}/descriptions/{dataset}.tsv</c> (the repository's <c>data</c> folder) and
    /// <c>{dir}/{dataset}.tsv</c> (the descriptions folder itself) that exists.
    /// </summary>
    /// <param name="repoOrDataDir">The repository root, its <c>data</c> folder or <c>data/descriptions</c>.</param>
    /// <param name="dataset">A dataset id or alias (<c>cifar100</c>, <c>CIFAR-100</c>, <c>mini-imagenet</c>…).</param>
    /// <exception cref="TinaException">The dataset is unknown or has no descriptions.</exception>
    /// <exception cref="TinaFileNotFoundException">None of the candidate files exists.</exception>
    public static string DefaultPath(string repoOrDataDir, string dataset)
    {
        ArgumentNullException.ThrowIfNull(repoOrDataDir);
        var file = FileName(dataset);
        var dir = Path.GetFullPath(repoOrDataDir);
        string[] candidates =
        [
            Path.Combine(dir, "data", "descriptions", file),
            Path.Combine(dir, "descriptions", file),
            Path.Combine(dir, file),
        ];
        foreach (var candidate in candidates)
            if (File.Exists(candidate)) return candidate;
        throw new TinaFileNotFoundException(candidates[0],
            $"Also looked for {candidates[1]} and {candidates[2]}. Pass the repository root (the folder with " +
            $"{RepoFolder}/), or use the copy built into Tina (ClassDescriptions.LoadBuiltIn).");
    }

    /// <summary>Reads the descriptions of a dataset from the copy embedded in this assembly.</summary>
    /// <param name="dataset">A dataset id or alias (<c>cifar100</c>, <c>CIFAR-100</c>, <c>mini-imagenet</c>…).</param>
    /// <exception cref="TinaException">The dataset is unknown or has no descriptions.</exception>
    public static IReadOnlyDictionary<string, string> LoadBuiltIn(string dataset)
    {
        var file = FileName(dataset);
        var resource = "Tina.Text.Descriptions." + file;
        using var stream = typeof(ClassDescriptions).Assembly.GetManifestResourceStream(resource)
            ?? throw new TinaException($"The class descriptions {file} are not embedded in this build of Tina (resource {resource}).");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), $"{resource} (embedded)");
    }

    /// <summary>A class name in the form used for comparisons: trimmed, '_' → ' ', runs of blanks → one space.</summary>
    public static string NormalizeName(string name) =>
        string.Join(' ', (name ?? "").Replace('_', ' ').Split(' ', '\t').Where(p => p.Length > 0));

    private static string FileName(string dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!DatasetCatalog.TryResolve(dataset, out var d))
            throw new TinaException($"Unknown dataset '{dataset}'. Class descriptions exist for: {string.Join(", ", Datasets)}.");
        if (!Datasets.Contains(d.Id))
            throw new TinaException($"No class descriptions for dataset '{d.Id}'. They exist for: {string.Join(", ", Datasets)}.");
        return d.Id + ".tsv";
    }

    private static ReadOnlyDictionary<string, string> Parse(string text, string source)
    {
        var map = new Dictionary<string, string>(NameComparer);
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            var fields = line.Split('\t');
            if (i == 0 && fields[0] == "class") continue;     // header
            if (fields.Length != 3)
                throw new CorruptFileException(source, $"line {i + 1} has {fields.Length} tab-separated fields instead of 3 (class, synset_offset, description)");
            var name = fields[0].Trim();
            var description = fields[2].Trim();
            if (name.Length == 0 || description.Length == 0)
                throw new CorruptFileException(source, $"line {i + 1} has an empty class name or description");
            if (!map.TryAdd(name, description))
                throw new CorruptFileException(source, $"line {i + 1}: class '{name}' is described twice");
        }
        return new ReadOnlyDictionary<string, string>(map);
    }

    private sealed class ClassNameComparer : IEqualityComparer<string>
    {
        public bool Equals(string? x, string? y) =>
            x is null || y is null ? x is null && y is null
                : string.Equals(NormalizeName(x), NormalizeName(y), StringComparison.OrdinalIgnoreCase);

        public int GetHashCode(string obj) => StringComparer.OrdinalIgnoreCase.GetHashCode(NormalizeName(obj));
    }
}
