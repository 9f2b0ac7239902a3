using System.Diagnostics;
using Spectre.Console;

namespace Tina.Cli.Console;

/// <summary>A unit of progress: how far (0..1) and a short status text (loss, accuracy, …).</summary>
internal readonly record struct Step(double Fraction, string Status);

/// <summary>
/// Shows long work as a Spectre.Console progress bar with ETA on a terminal, or as a plain line every few seconds
/// when output is redirected (CI logs), so progress is visible either way.
/// </summary>
internal static class ProgressView
{
    /// <summary>Runs <paramref name="work"/> with a progress sink; returns its result. A NaN fraction (unknown, e.g. a
    /// download without a size) keeps the previous one and only updates the status.</summary>
    public static T Run<T>(string title, Func<IProgress<Step>, T> work)
    {
        double known = 0;
        Step Known(Step s) => double.IsNaN(s.Fraction) ? s with { Fraction = known } : s with { Fraction = known = s.Fraction };
        if (AnsiConsole.Profile.Capabilities.Interactive && !System.Console.IsOutputRedirected)
        {
            T result = default!;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                    result = work(new Sink(step =>
                    {
                        var s = Known(step);
                        task.Value = Math.Clamp(s.Fraction, 0, 1);
                        task.Description = Markup.Escape($"{title}  {s.Status}");
                    }));
                    task.Value = 1.0;
                });
            return result;
        }
        var sw = Stopwatch.StartNew();
        var last = TimeSpan.FromSeconds(-100);
        double? start = null; // work already done when this run began (a resumed job): not counted in the rate
        var r = work(new Sink(step =>
        {
            var s = Known(step);
            start ??= s.Fraction;
            if (sw.Elapsed - last < TimeSpan.FromSeconds(10) && s.Fraction < 1) return;
            last = sw.Elapsed;
            double doneHere = s.Fraction - start.Value;
            var eta = doneHere > 0.001 ? TimeSpan.FromSeconds(sw.Elapsed.TotalSeconds * (1 - s.Fraction) / doneHere) : TimeSpan.Zero;
            System.Console.WriteLine($"{title} {100 * s.Fraction,5:F1}%  {s.Status}  elapsed {sw.Elapsed:hh\\:mm\\:ss} eta {eta:hh\\:mm\\:ss}");
        }));
        System.Console.WriteLine($"{title} done in {sw.Elapsed:hh\\:mm\\:ss}");
        return r;
    }

    /// <summary>Reports synchronously on the calling thread (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class Sink(Action<Step> report) : IProgress<Step>
    {
        public void Report(Step value) => report(value);
    }
}
