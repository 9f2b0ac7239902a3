using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Tina.MLNet.Errors;

namespace Tina.MLNet.Generation.Benchmarks;

/// <summary>What <see cref="ServeBenchmark"/> sends.</summary>
public sealed record ServeBenchmarkOptions
{
    /// <summary>Concurrent clients, one pair of rows each (distinct, then repeated requests).</summary>
    public IReadOnlyList<int> Clients { get; init; } = [1, 8, 32];

    /// <summary>Distinct requests per row (each one generated).</summary>
    public int Requests { get; init; } = 64;

    /// <summary>Repeated requests per row (cache hits).</summary>
    public int CachedRequests { get; init; } = 2000;

    /// <summary>DDIM steps of every request.</summary>
    public int Steps { get; init; } = 10;
}

/// <summary>One load's measurement.</summary>
/// <param name="Cached">Whether every request was the same one (cache hits) rather than a new one (generated).</param>
/// <param name="Clients">Concurrent clients.</param>
/// <param name="Sent">Requests sent.</param>
/// <param name="PerSecond">Successful responses per second.</param>
/// <param name="P50Milliseconds">Median latency of the successful responses (NaN when none succeeded).</param>
/// <param name="P99Milliseconds">99th percentile latency of the successful responses (NaN when none succeeded).</param>
/// <param name="Busy">Responses 429 (queue full).</param>
/// <param name="Errors">Other unsuccessful responses.</param>
public sealed record ServeBenchmarkRow(bool Cached, int Clients, int Sent, double PerSecond, double P50Milliseconds, double P99Milliseconds, int Busy, int Errors);

/// <summary>
/// Loads a running <c>tina serve</c> (<c>POST /v1/classifiers</c>) with concurrent HTTP clients: per client count first
/// distinct requests (a new seed and rotating classes each, so every one is generated), then one repeated request
/// (cache hits, after one request that fills the cache). Bounded in count, not in time.
/// </summary>
public static class ServeBenchmark
{
    /// <summary>Runs the loads against the server at <paramref name="address"/>, prompting with <paramref name="classNames"/> (at least 3).</summary>
    /// <exception cref="TinaException">An option is out of range.</exception>
    public static IReadOnlyList<ServeBenchmarkRow> Run(Uri address, IReadOnlyList<string> classNames, ServeBenchmarkOptions options, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Requests < 1 || options.CachedRequests < 1 || options.Steps < 1) throw new TinaException("--requests, --cached-requests and --steps must be at least 1.");
        if (options.Clients.Count == 0 || options.Clients.Any(c => c < 1)) throw new TinaException("Every client count must be at least 1.");
        if (classNames.Count < 3) throw new TinaException($"The load prompts with 3 classes; the generator knows {classNames.Count}.");
        var names = classNames;
        var rows = new List<ServeBenchmarkRow>();
        long seed = 1_000_000;
        foreach (var n in options.Clients)
        {
            rows.Add(Load(address, false, n, options.Requests, i => new
            {
                classes = new[] { names[i % names.Count], names[(i + 7) % names.Count], names[(i + 31) % names.Count] },
                seed = Interlocked.Increment(ref seed), steps = options.Steps,
            }, cancel));
            var same = new { classes = new[] { names[0], names[1], names[2] }, seed = 7L, steps = options.Steps };
            Load(address, true, 1, 1, _ => same, cancel);   // warm the cache
            rows.Add(Load(address, true, n, options.CachedRequests, _ => same, cancel));
        }
        return rows;
    }

    private static ServeBenchmarkRow Load(Uri address, bool cached, int clients, int total, Func<int, object> body, CancellationToken cancel)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
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
                using var response = await http.PostAsJsonAsync("/v1/classifiers", body(i), cancel).ConfigureAwait(false);
                await response.Content.ReadAsByteArrayAsync(cancel).ConfigureAwait(false);
                var ms = t.Elapsed.TotalMilliseconds;
                if (response.StatusCode == HttpStatusCode.TooManyRequests) Interlocked.Increment(ref busy);
                else if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                else lock (latencies) latencies.Add(ms);
            }
        }, cancel)).ToArray();
        Task.WaitAll(workers, cancel);
        var seconds = sw.Elapsed.TotalSeconds;
        double Pct(double q) => latencies.Count == 0 ? double.NaN : GenerationBenchmark.Percentile(latencies, q);
        return new ServeBenchmarkRow(cached, clients, total, latencies.Count / seconds, Pct(0.5), Pct(0.99), busy, errors);
    }
}
