using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Data;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary><c>tina data list|fetch|images</c>: the datasets under --data and their decoded caches.</summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var cmd = new Command("data", "Datasets: what is there, fetching official archives, writing sample images.");
        cmd.Subcommands.Add(List());
        cmd.Subcommands.Add(Fetch());
        cmd.Subcommands.Add(Images());
        return cmd;
    }

    private static Command List()
    {
        var classes = new Option<string?>("--classes") { Description = "Print the class names of this dataset instead." };
        var cmd = new Command("list", "Per dataset: present?, classes, train and test sizes.") { classes };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var store = Datasets.Store(r);
            if (r.GetValue(classes) is { } id)
            {
                var d = Datasets.Open(r, id);
                System.Console.WriteLine(string.Join(Environment.NewLine, d.ClassNames.Select((c, i) => $"{i,3}  {c}")));
                return 0;
            }
            var table = new Table().Title($"datasets in {Markup.Escape(store.DataRoot)}").AddColumn("dataset").AddColumn("archive").AddColumn(new TableColumn("classes").RightAligned())
                .AddColumn(new TableColumn("train").RightAligned()).AddColumn(new TableColumn("test").RightAligned()).AddColumn("cache");
            var infos = store.List();
            foreach (var info in infos)
            {
                var archive = info.Present ? (info.Problem is null ? "[green]present[/]" : $"[red]{Markup.Escape(info.Problem)}[/]") : "[yellow]missing[/] (tina data fetch " + info.Id + ")";
                string n(int? v) => v is null ? "?" : info.CountsFromData ? $"{v:N0}" : $"({v:N0})";
                table.AddRow(info.Id, archive, n(info.NumClasses), n(info.TrainCount), n(info.TestCount), info.Cached ? "decoded" : "-");
            }
            // The merged vocabulary, when every dataset is decoded (opening them from their caches takes seconds).
            if (infos.All(i => i.Cached))
            {
                var merged = store.Open(DatasetCatalog.Merged.Id);
                int shared = merged.ClassSources!.Count(s => s.Count > 1);
                table.AddRow("merged", $"one vocabulary: {shared} names in several datasets", $"{merged.NumClasses:N0}", $"{merged.Train.Count:N0}", $"{merged.Test.Count:N0}", "(the three)");
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine("[grey]Counts in parentheses are the official release's, for archives not present here.[/]");
            return 0;
        }));
        return cmd;
    }

    private static Command Fetch()
    {
        var id = new Argument<string>("dataset") { Description = "cifar100, caltech101 or miniimagenet." };
        var cmd = new Command("fetch", "Download the official archive into --data (offline: says which file to put where), then decode it once.") { id };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var store = Datasets.Store(r);
            var path = ProgressView.Run($"fetch {r.GetValue(id)}", p => store.FetchAsync(r.GetValue(id)!, new Sink(p), cancel).GetAwaiter().GetResult());
            AnsiConsole.MarkupLine($"Archive ready: [bold]{Markup.Escape(path)}[/]");
            var d = Datasets.Open(r, r.GetValue(id)!);
            AnsiConsole.MarkupLine($"{d.Name}: {d.NumClasses} classes, {d.Train.Count:N0} train, {d.Test.Count:N0} test images.");
            return 0;
        }));
        return cmd;
    }

    private static Command Images()
    {
        var classes = new Option<string>("--classes") { Description = $"Class names, {CliContext.ClassListFormat}.", Required = true };
        var perClass = new Option<int>("--per-class") { Description = "Test images per class.", DefaultValueFactory = _ => 2 };
        var output = new Option<string>("--out") { Description = "Folder for the PNG files.", Required = true };
        var cmd = new Command("images", "Write real test-split images of some classes as PNG files (named CLASS_N.png), e.g. to try 'tina predict'.")
        {
            Datasets.DatasetOption, classes, perClass, output,
        };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            var names = ClassList.Parse(r.GetValue(classes));   // before the dataset is decoded: a bad list fails at once
            var d = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var task = PersonalizationTask.FromNames(d, names, d.NumClasses);
            var dir = Path.GetFullPath(r.GetValue(output)!);
            Directory.CreateDirectory(dir);
            int written = 0;
            foreach (var (label, name) in task.Classes.Zip(task.Names))
            {
                var idx = Enumerable.Range(0, d.Test.Count).Where(i => d.Test.Labels[i] == label).Take(r.GetValue(perClass)).ToList();
                for (int k = 0; k < idx.Count; k++, written++)
                    PngWriter.Write(Path.Combine(dir, $"{name.Replace(' ', '_')}_{k}.png"), d.Test.Image(idx[k]));
            }
            AnsiConsole.MarkupLine($"Wrote {written} PNG files to [bold]{Markup.Escape(dir)}[/]");
            return 0;
        }));
        return cmd;
    }

    private sealed class Sink(IProgress<Step> p) : IProgress<DatasetProgress>
    {
        public void Report(DatasetProgress d) => p.Report(new Step(d.Fraction, d.Stage));
    }
}
