using System.CommandLine;
using Spectre.Console;
using Tina.Cli;
using Tina.Cli.Commands;
using Tina.MLNet.Errors;

var root = new RootCommand("Tina: text-to-model generation of personalized image classifiers for .NET (ONNX + ML.NET).");
root.Options.Add(CliContext.Artifacts);
root.Options.Add(CliContext.Data);
root.Options.Add(CliContext.Device);
root.Options.Add(CliContext.Backbone);
root.Subcommands.Add(DataCommands.Create());
root.Subcommands.Add(FeaturesCommand.Create());
root.Subcommands.Add(GenericCommands.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(ExportCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(NewCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(ZooCommands.Create());
root.Subcommands.Add(BenchCommands.Create());
root.Subcommands.Add(TextCommands.Create());
root.Subcommands.Add(ImagePromptCommands.Create());
root.Subcommands.Add(PlotCommand.Create());
TinaCommands.AddTo(root);

// TINA_THREADS is read here, by the command, and handed to the libraries (which read no environment variable).
Tina.Runtime.TorchRuntime.DefaultThreads = CliContext.ThreadsFromEnvironment();

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
Cli.Cancellation = cancel.Token;
var parsed = root.Parse(args);
if (parsed.Errors.Count > 0) return Cli.ParseErrors(parsed);
return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });

namespace Tina.Cli
{
    /// <summary>Runs command bodies: user errors (<see cref="ITinaError"/>) become one red line and exit code 2, Ctrl+C exits with 130.</summary>
    internal static class Cli
    {
        public static CancellationToken Cancellation { get; set; }

        /// <summary>
        /// Command-line mistakes (an unknown option, a missing value) are user errors like the others: one red line
        /// each and where to find the options, exit code 2 — not the whole help page.
        /// </summary>
        public static int ParseErrors(ParseResult parsed)
        {
            foreach (var error in parsed.Errors)
            {
                AnsiConsole.Markup("[red]error:[/] ");
                AnsiConsole.Profile.Out.Writer.WriteLine(error.Message);
            }
            var names = new List<string>();
            for (var c = parsed.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
                if (c.Parent is not null) names.Insert(0, c.Command.Name);
            AnsiConsole.Profile.Out.Writer.WriteLine($"Run 'tina {string.Join(' ', names.Append("--help"))}' for the options.");
            return 2;
        }

        public static Func<ParseResult, int> Run(Func<ParseResult, CancellationToken, int> body) => r =>
        {
            int code;
            try
            {
                CliContext.ConfigureFeatures(r);
                code = body(r, Cancellation);
            }
            catch (Exception e) when (e is ITinaError)
            {
                // The message as it is, on one line: markup would wrap it at the console width (80 columns when redirected).
                AnsiConsole.Markup("[red]error:[/] ");
                AnsiConsole.Profile.Out.Writer.WriteLine(e.Message);
                code = 2;
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine("[yellow]cancelled[/] (finished work is kept; rerun the same command to continue)");
                code = 130;
            }
            return code;
        };
    }
}
