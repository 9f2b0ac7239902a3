using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Microsoft.ML;
using Tina.Diffusion;
using Tina.Generation;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.MLNet.Generation.Serving;

/// <summary>What a client asks the generation service for.</summary>
/// <param name="Classes">The parsed class list (<see cref="ClassList"/>).</param>
/// <param name="Seed">Seed of the sampling noise.</param>
/// <param name="Steps">Sampling steps; null for the sampler's default.</param>
/// <param name="Sampler">DDIM or DDPM.</param>
/// <param name="Format">The model bytes wanted.</param>
public sealed record TinaGenerationRequest(ClassList Classes, long Seed = 0, int? Steps = null, DiffusionSampler Sampler = DiffusionSampler.Ddim,
    TinaModelFormat Format = TinaModelFormat.Onnx);

/// <summary>The form of a generated model.</summary>
public enum TinaModelFormat
{
    /// <summary>The ONNX file <c>tina generate</c> writes.</summary>
    Onnx,

    /// <summary>An ML.NET model zip (the savable chain over image file paths, ONNX embedded).</summary>
    MLNet,

    /// <summary>The head alone of a resnet18 classifier (<see cref="ClassifierFormat.Head"/>): a few KB, for apps that run ML.NET's ResNet-18 themselves.</summary>
    Head,
}

/// <summary>A generated model as the service returns it.</summary>
/// <param name="Bytes">The model file.</param>
/// <param name="Labels">Its labels, in output order.</param>
/// <param name="Method">How it was sampled (e.g. <c>tina ddim-50 seed 0 ema</c>).</param>
/// <param name="FromCache">Whether it came from the cache (no computation).</param>
public sealed record TinaGeneratedModel(byte[] Bytes, IReadOnlyList<string> Labels, string Method, bool FromCache);

/// <summary>Settings of <see cref="TinaGenerationService"/>.</summary>
public sealed record TinaGenerationServiceOptions
{
    /// <summary>
    /// Most requests sampled together in one diffusion run (default 1). Above 1, concurrent requests with the same
    /// sampler and steps share a run (<see cref="TinaGenerator.GenerateEach"/>), which raises throughput, but a
    /// request's weights then depend on its batch in the last bits (measured 2.9e-7), so they can differ from
    /// <c>tina generate</c>'s bytes; at 1 they are exactly those bytes.
    /// </summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>
    /// Sampling loops that take batches from the queue side by side (default 1). Small diffusion batches use several
    /// cores poorly within one run, so on a CPU two loops with one torch thread each (<c>TINA_THREADS=1</c>) can serve
    /// more than one loop with two threads (measured in docs/RESULTS.md, "Serving").
    /// </summary>
    public int Workers { get; init; } = 1;

    /// <summary>How long the worker waits for more requests to fill a batch (only when <see cref="MaxBatch"/> &gt; 1).</summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Requests accepted but not yet sampled; beyond it <see cref="TinaGenerationService.GenerateAsync"/> throws <see cref="TinaServiceBusyException"/>.</summary>
    public int QueueCapacity { get; init; } = 64;

    /// <summary>Generated models kept for identical requests (generator, classes, seed, sampler, steps, format); 0 turns the cache off.</summary>
    public int CacheCapacity { get; init; } = 1024;
}

/// <summary>The service's queue is full: retry later (HTTP 429).</summary>
public sealed class TinaServiceBusyException(int capacity)
    : TinaException($"The generation queue is full ({capacity} requests waiting); retry in a moment.")
{
    /// <summary>The queue capacity that was reached.</summary>
    public int Capacity { get; } = capacity;
}

/// <summary>
/// Generates classifiers for many clients from one loaded generator — the paper's server scenario. Requests go into a
/// bounded queue; one worker samples them (alone, or several in one diffusion run when
/// <see cref="TinaGenerationServiceOptions.MaxBatch"/> &gt; 1) and exports each through
/// <see cref="TinaGeneratedClassifier"/>, the path <c>tina generate</c> takes. Identical requests are answered from a
/// content-addressed cache, and identical requests in flight share one computation. A request whose caller gives up
/// before its turn is dropped without being sampled. <see cref="DisposeAsync"/> finishes the accepted requests.
/// </summary>
public sealed class TinaGenerationService : IAsyncDisposable
{
    private readonly TinaGenerator _generator;
    private readonly TinaGenerationServiceOptions _options;
    private readonly Channel<Work> _queue;
    private readonly ConcurrentDictionary<string, Lazy<Work>> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TinaGeneratedModel> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _cacheOrder = new();
    private readonly Task[] _workers;
    private readonly string _generatorId;

    /// <summary>Starts the service on a loaded generator (not owned: dispose it after the service).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public TinaGenerationService(TinaGenerator generator, TinaGenerationServiceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        _options = options ?? new TinaGenerationServiceOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatch, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.QueueCapacity, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.CacheCapacity, nameof(options));
        _generator = generator;
        _generatorId = generator.WeightsSha256;
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.Workers, 1, nameof(options));
        TinaGeneratedClassifier.CheckBackbone(generator); // at start-up, not at the first request
        _queue = Channel.CreateBounded<Work>(new BoundedChannelOptions(_options.QueueCapacity) { SingleReader = _options.Workers == 1, FullMode = BoundedChannelFullMode.Wait });
        _workers = Enumerable.Range(0, _options.Workers)
            .Select(_ => Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
    }

    /// <summary>The generator served.</summary>
    public TinaGenerator Generator => _generator;

    /// <summary><c>sha256:…</c> of the generator's weights file: it names the generator in responses and cache keys.</summary>
    public string GeneratorId => _generatorId;

    /// <summary>Requests waiting to be sampled.</summary>
    public int Queued => _queue.Reader.CanCount ? _queue.Reader.Count : -1;

    /// <summary>Models generated (not from the cache) since start.</summary>
    public long Generated => Interlocked.Read(ref _generated);

    private long _generated;

    /// <summary>Generates (or returns from the cache) the model of <paramref name="request"/>.</summary>
    /// <exception cref="InvalidPromptException">One class, more classes than the generator takes, or a name its encoder cannot embed.</exception>
    /// <exception cref="TinaServiceBusyException">The queue is full.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> fired before the result was ready.</exception>
    public Task<TinaGeneratedModel> GenerateAsync(TinaGenerationRequest request, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        _generator.CheckClassCount(request.Classes);
        var options = _generator.Resolve(new GenerateOptions { Seed = request.Seed, Steps = request.Steps, Sampler = request.Sampler });
        var key = CacheKey(request, options);
        if (_cache.TryGetValue(key, out var hit)) return Task.FromResult(hit with { FromCache = true });
        // Identical requests in flight share one computation; each caller still gets its own cancellation, and a
        // request all of whose callers gave up is dropped before it is sampled.
        bool created = false;
        var work = _inFlight.GetOrAdd(key, _ => new Lazy<Work>(() => { created = true; return Enqueue(request, options, key); })).Value;
        if (!created) work.Join();   // the creator is counted from the start, before the worker can see the work
        return Wait(work, cancel);
    }

    private static async Task<TinaGeneratedModel> Wait(Work work, CancellationToken cancel)
    {
        try
        {
            return await work.Result.Task.WaitAsync(cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !work.Result.Task.IsCompleted)
        {
            work.Leave();   // this caller gave up: with no caller left, the worker drops the request unsampled
            throw;
        }
    }

    private Work Enqueue(TinaGenerationRequest request, GenerateOptions options, string key)
    {
        var work = new Work(request, options, key);
        if (!_queue.Writer.TryWrite(work))
        {
            _inFlight.TryRemove(key, out _);
            throw new TinaServiceBusyException(_options.QueueCapacity);
        }
        return work;
    }

    /// <summary>
    /// The worker: one dedicated thread (libtorch's thread count is a per-thread setting, see
    /// <see cref="Runtime.TorchRuntime.UseOnThisThread"/>), blocking on the queue, so every generation runs on it.
    /// </summary>
    private void Run()
    {
        Runtime.TorchRuntime.UseOnThisThread();
        var reader = _queue.Reader;
        Work? carried = null;   // taken while filling a batch but not compatible with it: the next batch starts with it
        while (carried is not null || reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            var first = carried;
            carried = null;
            if (first is null && !reader.TryRead(out first)) continue;   // another worker was faster
            var batch = new List<Work> { first };
            if (_options.MaxBatch > 1)
            {
                var deadline = DateTime.UtcNow + _options.BatchWindow;
                while (batch.Count < _options.MaxBatch)
                {
                    if (reader.TryRead(out var next))
                    {
                        if (next.Options.Sampler == first.Options.Sampler && next.Options.Steps == first.Options.Steps) { batch.Add(next); continue; }
                        carried = next;
                        break;
                    }
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) break;
                    using var wait = new CancellationTokenSource(left);
                    try
                    {
                        if (!reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult()) break;   // completed: no more requests
                    }
                    catch (OperationCanceledException) { break; }
                }
            }
            Process(batch);
        }
    }

    private void Process(List<Work> batch)
    {
        // Requests whose every caller gave up are dropped before sampling.
        batch.RemoveAll(w =>
        {
            if (!w.Abandoned) return false;
            Complete(w, null, new OperationCanceledException("Every caller of this request gave up."));
            return true;
        });
        if (batch.Count == 0) return;
        try
        {
            static ClassifierFormat FormatOf(Work w) => w.Request.Format == TinaModelFormat.Head ? ClassifierFormat.Head : ClassifierFormat.OneFile;
            var results = batch.Count == 1
                ? [TinaGeneratedClassifier.Generate(_generator, batch[0].Request.Classes, batch[0].Options, FormatOf(batch[0]))]
                : _generator.GenerateEach(batch.Select(w => (IReadOnlyList<string>)w.Request.Classes).ToList(), batch.Select(w => w.Options.Seed).ToList(), batch[0].Options)
                    .Select((m, i) => TinaGeneratedClassifier.FromModels(new PModelEnsemble([m], [batch[i].Options.Seed]), batch[i].Options, FormatOf(batch[i])))
                    .ToList();
            for (int i = 0; i < batch.Count; i++)
            {
                var generated = results[i];
                var bytes = batch[i].Request.Format == TinaModelFormat.MLNet ? MLNetBytes(generated) : generated.Onnx;
                var model = new TinaGeneratedModel(bytes, generated.Labels, generated.Method, FromCache: false);
                Remember(batch[i].Key, model);
                Interlocked.Increment(ref _generated);
                Complete(batch[i], model, null);
            }
        }
        catch (InvalidPromptException) when (batch.Count > 1)
        {
            // A prompt the encoder cannot embed must not fail the requests batched with it: each alone (same bytes).
            foreach (var w in batch) Process([w]);
        }
        catch (Exception e)
        {
            foreach (var w in batch) Complete(w, null, e);
        }
    }

    private void Complete(Work w, TinaGeneratedModel? model, Exception? error)
    {
        _inFlight.TryRemove(w.Key, out _);
        if (error is not null) w.Result.TrySetException(error);
        else w.Result.TrySetResult(model!);
    }

    private static byte[] MLNetBytes(TinaGeneratedClassifier generated)
    {
        var ml = new MLContext(seed: 0);
        return TinaMLNetModel.ToBytes(ml, generated.ToMLNet(ml), TinaMLNetModel.EmptyInput(ml).Schema);
    }

    private void Remember(string key, TinaGeneratedModel model)
    {
        if (_options.CacheCapacity == 0) return;
        if (_cache.TryAdd(key, model)) _cacheOrder.Enqueue(key);
        while (_cache.Count > _options.CacheCapacity && _cacheOrder.TryDequeue(out var oldest)) _cache.TryRemove(oldest, out _);
    }

    private string CacheKey(TinaGenerationRequest r, GenerateOptions o)
    {
        var text = string.Join("\u001f", [_generatorId, o.Describe(), r.Format.ToString(), .. r.Classes]);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>Stops taking requests and finishes the accepted ones.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers).ConfigureAwait(false);
    }

    private sealed class Work(TinaGenerationRequest request, GenerateOptions options, string key)
    {
        private int _waiters = 1;

        public TinaGenerationRequest Request { get; } = request;
        public GenerateOptions Options { get; } = options;
        public string Key { get; } = key;
        public TaskCompletionSource<TinaGeneratedModel> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Whether every caller has given up (checked just before sampling).</summary>
        public bool Abandoned => Volatile.Read(ref _waiters) <= 0;

        public void Join() => Interlocked.Increment(ref _waiters);

        public void Leave() => Interlocked.Decrement(ref _waiters);
    }
}
