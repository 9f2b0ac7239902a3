using System.CommandLine;
using Spectre.Console;
using Tina.Cli.Serving;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Serving;
using Tina.PModels;

namespace Tina.Cli.Commands;

/// <summary><c>tina serve</c>: one generator, a personalised classifier per HTTP request (the paper's server scenario).</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on, separated by ';'.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var maxBatch = new Option<int>("--max-batch") { Description = "Requests sampled together in one diffusion run (1 = each alone, bytes exactly those of tina generate; more = higher throughput, weights equal up to rounding).", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue") { Description = "Requests waiting at most; beyond it the server answers 429 with Retry-After.", DefaultValueFactory = _ => 64 };
        var cache = new Option<int>("--cache") { Description = "Generated models kept for identical requests (0: no cache).", DefaultValueFactory = _ => 1024 };
        var workers = new Option<int>("--workers") { Description = "Sampling loops side by side (on a CPU, 2 loops with TINA_THREADS=1 can serve more than 1 loop with 2 threads).", DefaultValueFactory = _ => 1 };
        var timeout = new Option<int>("--timeout") { Description = "Seconds a request may take before it is answered 504.", DefaultValueFactory = _ => 60 };
        var cmd = new Command("serve", "Serve generation over HTTP: POST /v1/classifiers with the class list, get the model bytes (ONNX or ML.NET zip).")
        {
            TinaCommands.GeneratorOption, urls, maxBatch, queue, cache, workers, timeout, TextCommands.ClipModelOption,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            if (r.GetValue(maxBatch) < 1 || r.GetValue(queue) < 1 || r.GetValue(cache) < 0 || r.GetValue(timeout) < 1 || r.GetValue(workers) < 1)
                throw new TinaException("--max-batch, --queue, --workers and --timeout must be at least 1, --cache at least 0.");
            var device = CliContext.TorchDevice(r);
            // A corrupt or missing generator fails here, with one line, before anything listens.
            using var generator = TinaCommands.OpenGenerator(r, TinaCommands.RequireGenerator(r), r.GetValue(TextCommands.ClipModelOption), device);
            var service = new TinaGenerationService(generator, new TinaGenerationServiceOptions
            {
                MaxBatch = r.GetValue(maxBatch), QueueCapacity = r.GetValue(queue), CacheCapacity = r.GetValue(cache), Workers = r.GetValue(workers),
            });
            var addresses = r.GetValue(urls)!.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var app = TinaServer.Build(service, addresses, TimeSpan.FromSeconds(r.GetValue(timeout)));
            AnsiConsole.MarkupLine($"Serving [bold]{Markup.Escape(generator.CheckpointDir)}[/] ({generator.Arch.ToName()}, up to {generator.MaxClasses} classes) on {Markup.Escape(string.Join(", ", addresses))}; POST /v1/classifiers. Ctrl+C stops after the accepted requests.");
            using var stop = cancel.Register(() => app.Lifetime.StopApplication());
            app.Run();   // until Ctrl+C or SIGTERM; accepted requests finish first
            AnsiConsole.MarkupLine($"Stopped after {service.Generated} generated models.");
            return 0;
        }));
        return cmd;
    }
}
