using System.CommandLine;
using System.Diagnostics;
using Spectre.Console;
using Tina.Cli.Console;
using Tina.Features;
using Tina.MLNet.Errors;

namespace Tina.Cli.Commands;

/// <summary><c>tina features</c>: ML.NET's ResNet-18 run once over a dataset's images, cached for every later stage.</summary>
internal static class FeaturesCommand
{
    public static Command Create()
    {
        var views = new Option<int>("--views") { Description = "Also compute this many seeded augmented views (crop + flip) of the training images.", DefaultValueFactory = _ => 0 };
        var cmd = new Command("features", "Compute the resnet18 backbone's features of a dataset's train and test images once (cached under ARTIFACTS/features, resumable).")
        {
            Datasets.DatasetOption, views,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            if (r.GetValue(views) < 0) throw new TinaException("--views must be 0 or more.");
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var service = BackboneFeatures.ResNet18;
            var backbone = service.Backbone;
            AnsiConsole.MarkupLine($"Backbone: ML.NET's ResNet-18 ({Markup.Escape(backbone.ModelPath)}, {backbone.Identity[..19]}…), images resized to {Tina.MLNet.ResNet18Backbone.ImageSize}×{Tina.MLNet.ResNet18Backbone.ImageSize}.");
            var jobs = new List<(string Name, Data.ImageSet Set, int View)> { ("train", data.Train, -1), ("test", data.Test, -1) };
            for (int v = 0; v < r.GetValue(views); v++) jobs.Add(($"train view {v}", data.Train, v));
            var previous = service.Progress;
            foreach (var (name, set, view) in jobs)
            {
                var sw = Stopwatch.StartNew();
                double rate = 0;
                ProgressView.Run($"{data.Name} {name}", p =>
                {
                    service.Progress = new Sink(f =>
                    {
                        rate = f.ImagesPerSecond;
                        p.Report(new Step((double)f.Done / f.Total, $"{f.Done:N0}/{f.Total:N0} images, {f.ImagesPerSecond:F0}/s"));
                    });
                    try { service.Of(set, view, cancel).Dispose(); }
                    finally { service.Progress = previous; }
                    return 0;
                });
                AnsiConsole.MarkupLine(rate > 0
                    ? $"{data.Name} {name}: {set.Count:N0} images in {sw.Elapsed.TotalSeconds:F0} s ({rate:F1} images/s)."
                    : $"{data.Name} {name}: {set.Count:N0} images, already cached.");
            }
            AnsiConsole.MarkupLine($"Cached under [bold]{Markup.Escape(service.CacheDirectory ?? "")}[/].");
            return 0;
        }));
        return cmd;
    }

    private sealed class Sink(Action<FeatureProgress> report) : IProgress<FeatureProgress>
    {
        public void Report(FeatureProgress value) => report(value);
    }
}
