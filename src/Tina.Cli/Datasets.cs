using System.CommandLine;
using Tina.Cli.Console;
using Tina.Data;

namespace Tina.Cli;

/// <summary>Opens datasets for commands through the dataset store (archives under --data, decoded caches under --artifacts).</summary>
internal static class Datasets
{
    public static readonly Option<string> DatasetOption = new("--dataset")
    {
        Description = "Dataset id: cifar100, caltech101 or miniimagenet.",
        DefaultValueFactory = _ => "cifar100",
    };

    public static DatasetStore Store(ParseResult r) => new(CliContext.DataDir(r), CliContext.ArtifactsDir(r));

    public static ImageDataset Open(ParseResult r, string id)
    {
        var store = Store(r);
        if (store.IsCached(id)) return store.Open(id);
        return ProgressView.Run($"decode {id}", p => store.Open(id, new Sink(p), Cli.Cancellation));
    }

    private sealed class Sink(IProgress<Step> p) : IProgress<DatasetProgress>
    {
        public void Report(DatasetProgress d) => p.Report(new Step(d.Fraction, d.Stage));
    }
}
