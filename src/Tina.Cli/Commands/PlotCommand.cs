using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Console;

namespace Tina.Cli.Commands;

/// <summary><c>tina plot loss</c> and <c>tina plot pacc</c>: the charts of training runs and p-Acc results, as PNG (<see cref="Charts"/>).</summary>
internal static class PlotCommand
{
    public static Command Create()
    {
        var cmd = new Command("plot", "Charts (PNG): loss curves of tina train, p-Acc bars of tina eval --json.");

        var csv = new Option<string[]>("--csv") { Description = "loss.csv files written by tina train (epoch,loss).", Required = true, AllowMultipleArgumentsPerToken = true };
        var label = new Option<string[]>("--label") { Description = "Legend label per --csv (default: the folder name).", AllowMultipleArgumentsPerToken = true };
        var outLoss = new Option<string>("--out") { Description = "PNG to write.", Required = true };
        var loss = new Command("loss", "Training loss per epoch (log scale).") { csv, label, outLoss };
        loss.SetAction(Cli.Run((r, _) => Wrote(Charts.Loss(r.GetValue(csv)!, r.GetValue(label) ?? [], r.GetValue(outLoss)!))));
        cmd.Subcommands.Add(loss);

        var json = new Option<string[]>("--json") { Description = "Result files of tina eval --zoo … --json; files on the same arch and tasks are drawn as one group.", Required = true, AllowMultipleArgumentsPerToken = true };
        var labels = new Option<string[]>("--labels") { Description = "One label per --json file, put before its groups' names (default: the file's arch).", AllowMultipleArgumentsPerToken = true };
        var title = new Option<string>("--title") { Description = "Chart title.", DefaultValueFactory = _ => "CIFAR-100 p-Acc" };
        var only = new Option<string?>("--only") { Description = "Draw only the groups with this key in the result files (e.g. ood); the labels then leave the key out." };
        var methods = new Option<string[]>("--methods") { Description = "Draw only these methods (e.g. tina), in this order.", AllowMultipleArgumentsPerToken = true };
        var outBars = new Option<string>("--out") { Description = "PNG to write.", Required = true };
        var pacc = new Command("pacc", "Grouped bars: p-Acc per method for each group of tasks (ID, OOD, OOD per unseen share …) of each result file.") { json, labels, title, only, methods, outBars };
        pacc.SetAction(Cli.Run((r, _) => Wrote(Charts.PAcc(r.GetValue(json)!, r.GetValue(labels) ?? [], r.GetValue(title)!, r.GetValue(only), r.GetValue(methods) ?? [], r.GetValue(outBars)!))));
        cmd.Subcommands.Add(pacc);
        return cmd;
    }

    private static int Wrote(string png)
    {
        AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(png)}[/]");
        return 0;
    }
}
