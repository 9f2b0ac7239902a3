using System.CommandLine;
using Tina.Data;

namespace Tina.Cli;

/// <summary>Opens datasets for commands (through the dataset store and its cache).</summary>
internal static class Datasets
{
    public static readonly Option<string> DatasetOption = new("--dataset")
    {
        Description = "Dataset id: cifar100, caltech101 or miniimagenet.",
        DefaultValueFactory = _ => "cifar100",
    };

    public static ImageDataset Open(ParseResult r, string id)
    {
        // Temporary: CIFAR-100 directly from its archive until the dataset store lands.
        if (id.Replace("-", "").ToLowerInvariant() != "cifar100") throw new TinaException($"Dataset '{id}' is not supported yet.");
        return Cifar100.Load(Path.Combine(CliContext.DataDir(r), Cifar100.ArchiveName));
    }
}
