using Tina.Data;
using Tina.Generation;
using Tina.Text;
using static TorchSharp.torch;

namespace Tina.Evaluation.Plan;

/// <summary>
/// Where an <see cref="Evaluator"/> finds things and how it shows its work: the artifacts and data folders, the device,
/// how a dataset, a generator and a text encoder are opened, and what happens to progress and notes. The defaults open
/// datasets through a <see cref="DatasetStore"/>, load generators with the embeddings their checkpoint stores, have
/// no text encoder, and show nothing; an application (the CLI) overrides what it does its own way.
/// </summary>
/// <param name="artifactsDir">Artifacts folder (generic models, decoded dataset caches, image-prompt projectors).</param>
/// <param name="dataDir">Folder of the dataset archives; null: none (only datasets already decoded in the artifacts folder open).</param>
public class EvaluationEnvironment(string artifactsDir, string? dataDir = null)
{
    /// <summary>Artifacts folder, full path.</summary>
    public string ArtifactsDir { get; } = Path.GetFullPath(artifactsDir);

    /// <summary>Folder of the dataset archives, or null.</summary>
    public string? DataDir { get; } = dataDir is null ? null : Path.GetFullPath(dataDir);

    /// <summary>Device the methods run on; read once, after the options are checked. Default: the CPU.</summary>
    public virtual Device Device => CPU;

    /// <summary>Opens a dataset by id; <c>ID@N[+M]</c> keeps the first N training (and M test) images per class.</summary>
    public virtual ImageDataset OpenDataset(string id, CancellationToken cancel = default)
    {
        var (name, train, test) = ImageDataset.ParseSubset(id);
        var full = new DatasetStore(DataDir, ArtifactsDir).Open(name, cancellationToken: cancel);
        return train is { } t ? full.PerClassSubset(t, test) : full;
    }

    /// <summary>Loads a generator checkpoint on <see cref="Device"/>; the caller disposes it.</summary>
    public virtual TinaGenerator OpenGenerator(string checkpointDir) => TinaGenerator.Load(checkpointDir, device: Device);

    /// <summary>Opens the text encoder of the text-conditioned baselines (TAPER-Mixer, text-to-rows); the caller disposes it.</summary>
    /// <exception cref="TinaException">This environment has none (the default).</exception>
    public virtual ITextEncoder OpenTextEncoder() =>
        throw new TinaException("This evaluation needs a text encoder (for taper-mixer or text-to-rows); give the evaluation environment one.");

    /// <summary>
    /// Runs one long stage (training TAPER-Mixer, the p-Acc of a method on a group of tasks) and returns its result;
    /// <paramref name="work"/> reports the fraction done to the progress it is given. Default: runs it, showing nothing.
    /// </summary>
    public virtual T Stage<T>(string title, Func<IProgress<double>?, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work(null);
    }

    /// <summary>A line worth showing while the evaluation runs (also kept in <see cref="EvaluationReport.Notes"/>). Default: nothing.</summary>
    public virtual void Note(string line)
    {
    }
}
