namespace Tina.Zoo;

/// <summary>
/// Merges the slices of a zoo built on several machines (<c>tina zoo build --shard I/N</c>, one folder per slice) into
/// one zoo folder: checks that every slice is the same zoo (dataset, architecture, seeds, recipe, task list, and the
/// same generic model by content), that the slices are I/N for one N with each I once, and that together they hold
/// every task; then copies the shard files and writes the merged manifest. The result is the zoo a single build makes.
/// </summary>
public static class ZooMerge
{
    /// <summary>Merges the slice folders <paramref name="sliceDirs"/> into <paramref name="outDir"/> and returns the merged manifest.</summary>
    /// <exception cref="TinaException">The slices do not belong together, miss tasks, or <paramref name="outDir"/> already holds a zoo.</exception>
    public static ZooManifest Merge(string outDir, IReadOnlyList<string> sliceDirs)
    {
        ArgumentNullException.ThrowIfNull(sliceDirs);
        if (sliceDirs.Count == 0) throw new TinaException("Give the slice folders to merge (written by tina zoo build --shard I/N).");
        var slices = sliceDirs.Select(d => (Dir: Path.GetFullPath(d), Manifest: ZooManifest.Load(Path.GetFullPath(d)))).ToList();
        var first = slices[0];
        foreach (var (dir, m) in slices)
        {
            if (m.Slice is null)
                throw new TinaException($"{dir} is a whole zoo, not a slice of one (built without --shard).");
            if (!ZooBuilder.SameSettings(first.Manifest, m))
                throw new TinaException($"{dir} is not a slice of the same zoo as {first.Dir}: the dataset, architecture, seed, class counts, fine-tuning recipe or task list differ.");
            if (m.GenericModelSha256 != first.Manifest.GenericModelSha256 || (m.GenericModelSha256 is null && m.GenericModel != first.Manifest.GenericModel))
                throw new TinaException($"{dir} was fine-tuned from another generic model than {first.Dir} ({m.GenericModelSha256 ?? m.GenericModel} vs {first.Manifest.GenericModelSha256 ?? first.Manifest.GenericModel}).");
        }
        var parsed = slices.Select(s => (s.Dir, s.Manifest, Slice: ZooSlice.Parse(s.Manifest.Slice!))).ToList();
        int n = parsed[0].Slice.Count;
        if (parsed.Any(p => p.Slice.Count != n))
            throw new TinaException($"The slices were cut differently: {string.Join(", ", parsed.Select(p => p.Slice))}.");
        var twice = parsed.GroupBy(p => p.Slice.Index).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new TinaException($"Slice {twice.Key}/{n} is given twice: {string.Join(", ", twice.Select(p => p.Dir))}.");
        var missingSlices = Enumerable.Range(0, n).Except(parsed.Select(p => p.Slice.Index)).ToList();
        if (missingSlices.Count > 0) throw new TinaException($"Slices {string.Join(", ", missingSlices.Select(i => $"{i}/{n}"))} are missing.");

        var shards = parsed.SelectMany(p => p.Manifest.Shards.Select(s => (p.Dir, Shard: s))).OrderBy(x => x.Shard.First).ToList();
        int covered = shards.Sum(s => s.Shard.Count);
        if (covered != first.Manifest.Tasks.Count || shards.Select(s => s.Shard.First).Distinct().Count() != shards.Count)
        {
            var have = shards.SelectMany(s => Enumerable.Range(s.Shard.First, s.Shard.Count)).ToHashSet();
            var lacking = Enumerable.Range(0, first.Manifest.Tasks.Count).Where(i => !have.Contains(i)).ToList();
            throw new TinaException(lacking.Count > 0
                ? $"The slices are not finished: {lacking.Count} of {first.Manifest.Tasks.Count} tasks have no p-Model yet (first: task {lacking[0]}). Rerun their builds."
                : "The slices hold overlapping shards.");
        }

        outDir = Path.GetFullPath(outDir);
        if (File.Exists(Path.Combine(outDir, ZooManifest.FileName)))
            throw new TinaException($"{outDir} already holds a zoo; merge into an empty folder.");
        Directory.CreateDirectory(outDir);
        foreach (var (dir, shard) in shards)
        {
            var target = Path.Combine(outDir, shard.File);
            var temp = target + ".tmp";
            File.Copy(Path.Combine(dir, shard.File), temp, overwrite: true);
            File.Move(temp, target, overwrite: true);
        }
        // The manifest last: until it exists the folder is not a zoo.
        var merged = first.Manifest with { Slice = null, Shards = shards.Select(s => s.Shard).ToList() };
        merged.Save(outDir);
        return merged;
    }

    /// <summary><c>sha256:…</c> of the generic model's weights file (<paramref name="genericPath"/>.safetensors), or null when it is absent.</summary>
    public static string? GenericModelHash(string genericPath)
    {
        var file = genericPath + ".safetensors";
        return File.Exists(file) ? ContentHash.OfFile(file) : null;
    }
}
