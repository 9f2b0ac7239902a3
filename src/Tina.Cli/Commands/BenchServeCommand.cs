using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using Tina.Cli.Serving;
using Tina.MLNet.Serving;

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
                var names = generator.StoredClassNames;
                var table = new Table().Title($"tina serve on 127.0.0.1, {generator.Arch.ToString().ToLowerInvariant()}, DDIM-{r.GetValue(steps)}, max batch {r.GetValue(maxBatch)}, {r.GetValue(workers)} worker(s) × {TorchSharp.torch.get_num_threads()} thread(s), {Environment.ProcessorCount} cores")
                    .AddColumn("requests").AddColumn(new TableColumn("clients").RightAligned()).AddColumn(new TableColumn("sent").RightAligned())
                    .AddColumn(new TableColumn("per second").RightAligned()).AddColumn(new TableColumn("p50 ms").RightAligned()).AddColumn(new TableColumn("p99 ms").RightAligned())
                    .AddColumn(new TableColumn("429").RightAligned()).AddColumn(new TableColumn("errors").RightAligned());
                long seed = 1_000_000;
                foreach (var n in counts)
                {
                    // Distinct: a new seed (and rotating classes) per request, so every one is generated.
                    var distinct = Run(address, n, r.GetValue(requests), i => new
                    {
                        classes = new[] { names[i % names.Count], names[(i + 7) % names.Count], names[(i + 31) % names.Count] },
                        seed = Interlocked.Increment(ref seed), steps = r.GetValue(steps),
                    }, cancel);
                    table.AddRow("distinct (generated)", n.ToString(), distinct.Sent.ToString(), $"{distinct.PerSecond:F1}", $"{distinct.P50:F0}", $"{distinct.P99:F0}", distinct.Busy.ToString(), distinct.Errors.ToString());
                    var same = new { classes = new[] { names[0], names[1], names[2] }, seed = 7L, steps = r.GetValue(steps) };
                    Run(address, 1, 1, _ => same, cancel);   // warm the cache
                    var hits = Run(address, n, r.GetValue(cached), _ => same, cancel);
                    table.AddRow("repeated (cache hits)", n.ToString(), hits.Sent.ToString(), $"{hits.PerSecond:F0}", $"{hits.P50:F1}", $"{hits.P99:F1}", hits.Busy.ToString(), hits.Errors.ToString());
                }
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

    private sealed record Load(int Sent, double PerSecond, double P50, double P99, int Busy, int Errors);

    private static Load Run(string address, int clients, int total, Func<int, object> body, CancellationToken cancel)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(5) };
        var latencies = new List<double>();
        int next = -1, busy = 0, errors = 0;
        var sw = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                cancel.ThrowIfCancellationRequested();
                var t = Stopwatch.StartNew();
                using var response = await http.PostAsJsonAsync("/v1/classifiers", body(i), cancel);
                await response.Content.ReadAsByteArrayAsync(cancel);
                var ms = t.Elapsed.TotalMilliseconds;
                if (response.StatusCode == HttpStatusCode.TooManyRequests) Interlocked.Increment(ref busy);
                else if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                else lock (latencies) latencies.Add(ms);
            }
        })).ToArray();
        Task.WaitAll(workers, cancel);
        var seconds = sw.Elapsed.TotalSeconds;
        latencies.Sort();
        double Pct(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Clamp((int)Math.Ceiling(q * latencies.Count) - 1, 0, latencies.Count - 1)];
        return new Load(total, latencies.Count / seconds, Pct(0.5), Pct(0.99), busy, errors);
    }
}
