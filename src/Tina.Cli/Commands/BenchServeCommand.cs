using System.CommandLine;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tina.Cli.Serving;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Benchmarks;
using Tina.MLNet.Generation.Serving;

namespace Tina.Cli.Commands;

/// <summary>
/// <c>tina bench serve</c>: starts <c>tina serve</c> in-process on 127.0.0.1 (an ephemeral port) and loads it with
/// 1, 8, 32… concurrent HTTP clients, first with distinct requests (every one generated), then with one repeated
/// request (cache hits); prints requests per second, latency percentiles and the 429s and errors. Bounded in count.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var clients = new Option<string>("--clients") { Description = "Concurrent clients, comma-separated: one table row each per mode.", DefaultValueFactory = _ => "1,8,32" };
        var requests = new Option<int>("--requests") { Description = "Distinct requests per row (each generated).", DefaultValueFactory = _ => 64 };
        var cached = new Option<int>("--cached-requests") { Description = "Repeated requests per row (cache hits).", DefaultValueFactory = _ => 2000 };
        var steps = new Option<int>("--steps") { Description = "DDIM steps of every request.", DefaultValueFactory = _ => 10 };
        var maxBatch = new Option<int>("--max-batch") { Description = "The server's --max-batch.", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue") { Description = "The server's --queue.", DefaultValueFactory = _ => 64 };
        var workers = new Option<int>("--workers") { Description = "The server's --workers.", DefaultValueFactory = _ => 1 };
        var cmd = new Command("serve", "Load tina serve on 127.0.0.1 with concurrent clients: generated and cached classifiers per second, p50/p99 latency, 429s.")
        {
            TinaCommands.GeneratorOption, clients, requests, cached, steps, maxBatch, queue, workers,
        };
        cmd.SetAction(Cli.Run((r, cancel) =>
        {
            var counts = CliContext.ParsePositiveInts(r.GetValue(clients), "--clients");
            if (r.GetValue(requests) < 1 || r.GetValue(cached) < 1 || r.GetValue(steps) < 1 || r.GetValue(workers) < 1) throw new TinaException("--requests, --cached-requests, --steps and --workers must be at least 1.");
            var device = CliContext.TorchDevice(r);
            using var generator = TinaCommands.OpenGenerator(r, TinaCommands.RequireGenerator(r), null, device);
            var service = new TinaGenerationService(generator, new TinaGenerationServiceOptions { MaxBatch = r.GetValue(maxBatch), QueueCapacity = r.GetValue(queue), Workers = r.GetValue(workers) });
            var app = TinaServer.Build(service, ["http://127.0.0.1:0"], TimeSpan.FromSeconds(120));
            app.StartAsync(cancel).GetAwaiter().GetResult();
            try
            {
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                var rows = ServeBenchmark.Run(new Uri(address), generator.StoredClassNames,
                    new ServeBenchmarkOptions { Clients = counts, Requests = r.GetValue(requests), CachedRequests = r.GetValue(cached), Steps = r.GetValue(steps) }, cancel);
                var table = new Table().Title($"tina serve on 127.0.0.1, {generator.Arch.ToString().ToLowerInvariant()}, DDIM-{r.GetValue(steps)}, max batch {r.GetValue(maxBatch)}, {r.GetValue(workers)} worker(s) × {TorchSharp.torch.get_num_threads()} thread(s), {Environment.ProcessorCount} cores")
                    .AddColumn("requests").AddColumn(new TableColumn("clients").RightAligned()).AddColumn(new TableColumn("sent").RightAligned())
                    .AddColumn(new TableColumn("per second").RightAligned()).AddColumn(new TableColumn("p50 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned())
                    .AddColumn(new TableColumn("429").RightAligned()).AddColumn(new TableColumn("errors").RightAligned());
                foreach (var row in rows)
                    table.AddRow(row.Cached
                        ? ["repeated (cache hits)", row.Clients.ToString(), row.Sent.ToString(), $"{row.PerSecond:F0}", $"{row.P50Milliseconds:F1}", $"{row.P99Milliseconds:F1}", row.Busy.ToString(), row.Errors.ToString()]
                        : ["distinct (generated)", row.Clients.ToString(), row.Sent.ToString(), $"{row.PerSecond:F1}", $"{row.P50Milliseconds:F0}", $"{row.P99Milliseconds:F0}", row.Busy.ToString(), row.Errors.ToString()]);
                AnsiConsole.Write(table);
            }
            finally
            {
                app.StopAsync().GetAwaiter().GetResult();
            }
            return 0;
        }));
        return cmd;
    }
}
