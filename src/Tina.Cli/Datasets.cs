using System.CommandLine;
using Tina.Cli.Console;
using Tina.Data;

namespace Tina.Cli;

/// <summary>Opens datasets for commands through the dataset store (archives under --data, decoded caches under --artifacts).</summary>
internal static class Datasets
{
    public static readonly Option<string> DatasetOption = new("--dataset")
    {
        Description = "Dataset id: cifar100, caltech101, miniimagenet, or merged (the three, one vocabulary); ID@N (e.g. cifar100@200) keeps the first N training images of every class, ID@N+M also the first M test images.",
        DefaultValueFactory = _ => "cifar100",
    };

    public static DatasetStore Store(ParseResult r) => new(CliContext.DataDir(r), CliContext.ArtifactsDir(r));

    /// <summary>Opens <paramref name="name"/>: a dataset id, or <c>ID@TRAIN[+TEST]</c> for its first TRAIN (and TEST) images per class (<see cref="ImageDataset.PerClassSubset"/>).</summary>
    public static ImageDataset Open(ParseResult r, string name)
    {
        var (id, train, test) = ImageDataset.ParseSubset(name);
        var store = Store(r);
        var full = store.IsCached(id) ? store.Open(id) : ProgressView.Run($"decode {id}", p => store.Open(id, new Sink(p), Cli.Cancellation));
        return train is { } t ? full.PerClassSubset(t, test) : full;
    }

    private sealed class Sink(IProgress<Step> p) : IProgress<DatasetProgress>
    {
        public void Report(DatasetProgress d) => p.Report(new Step(d.Fraction, d.Stage));
    }
}
