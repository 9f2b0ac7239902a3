using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Tina.Diffusion;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Serving;
using Tina.MLNet.IO;
using Tina.Tasks;

namespace Tina.Cli.Serving;

/// <summary>The JSON body of <c>POST /v1/classifiers</c>: the classes as a list or as one prompt text, and how to sample.</summary>
/// <param name="Classes">Class names in output order (or use <paramref name="Prompt"/>).</param>
/// <param name="Prompt">Class names in one text, separated by commas, semicolons or new lines.</param>
/// <param name="Seed">Seed of the sampling noise (default 0).</param>
/// <param name="Steps">Sampling steps (default: DDIM 50, DDPM 1,000).</param>
/// <param name="Sampler"><c>ddim</c> (default) or <c>ddpm</c>.</param>
/// <param name="Format"><c>onnx</c> (default), <c>mlnet</c>, or <c>head</c> (a resnet18 classifier's head alone).</param>
public sealed record ClassifierRequest(string[]? Classes, string? Prompt, long? Seed, int? Steps, string? Sampler, string? Format);

/// <summary>
/// <c>tina serve</c>'s HTTP API (ASP.NET Core minimal API) over one <see cref="TinaGenerationService"/>:
/// <c>POST /v1/classifiers</c> → model bytes, <c>POST /v1/predict</c> (an image → label and scores, for the playground at
/// <c>/</c>), <c>GET /v1/generator</c>, <c>GET /healthz</c>, <c>GET /openapi/v1.json</c>. Request bodies: 64 KB of JSON
/// (<see cref="MaxBodyBytes"/>), or one image within <see cref="ImageLimits"/>; larger ones get 413.
/// Bad requests get RFC 7807 problem details naming the problem (the prompt rules of the CLI); a full queue gets 429
/// with <c>Retry-After</c>; a request that outlives its time limit gets 504; a client that goes away cancels its
/// request, which is then dropped before sampling.
/// </summary>
internal static class TinaServer
{
    /// <summary>
    /// Largest accepted request body of the JSON endpoint <c>POST /v1/classifiers</c> (64 KB): Kestrel's limit for every
    /// request, which <c>POST /v1/predict</c> alone raises to <see cref="ImageLimits"/>' byte limit.
    /// </summary>
    public const long MaxBodyBytes = 64 * 1024;

    /// <summary>
    /// The images <c>POST /v1/predict</c> takes (<see cref="TinaImageLimits.Default"/>: a body of at most 20 MB whose
    /// header declares at most 40 megapixels and no side over 20,000 pixels); anything larger gets 413 problem details
    /// naming the limit, before it is decoded and before a classifier is generated for it.
    /// </summary>
    public static TinaImageLimits ImageLimits => TinaImageLimits.Default;

    /// <summary>Builds the app (not started) around <paramref name="service"/>; <paramref name="configure"/> can adjust the builder (tests use a test server).</summary>
    public static WebApplication Build(TinaGenerationService service, string[] urls, TimeSpan requestTimeout, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxBodyBytes);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(60));
        configure?.Invoke(builder);
        var app = builder.Build();

        // Both endpoints: generate (or take from the cache) within the time limit, then answer; the service's and the
        // prompt's errors become problem details (429 with Retry-After, 400, 504).
        async Task<IResult> Generate(HttpContext http, TinaGenerationRequest request, CancellationToken aborted, Func<TinaGeneratedModel, IResult> answer)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            timeout.CancelAfter(requestTimeout);
            try
            {
                return answer(await service.GenerateAsync(request, timeout.Token));
            }
            catch (TinaServiceBusyException e)
            {
                http.Response.Headers.RetryAfter = "1";
                return Problem(StatusCodes.Status429TooManyRequests, e.Message);
            }
            catch (InvalidPromptException e)
            {
                return Problem(StatusCodes.Status400BadRequest, e.Message);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                return Problem(StatusCodes.Status504GatewayTimeout, $"Generation did not finish within {requestTimeout.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} s.");
            }
        }
        // Every request at Debug (off by default: the minimum level is Warning; Logging__LogLevel__Tina=Debug shows them).
        var requestLog = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Tina.Serve.Requests");
        app.Use(async (http, next) =>
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            await next(http);
            if (requestLog.IsEnabled(LogLevel.Debug))
                requestLog.LogDebug("{Method} {Path} {ContentType} → {Status} in {Milliseconds:F1} ms", http.Request.Method, http.Request.Path.Value,
                    http.Request.ContentType ?? "-", http.Response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi();

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok", queued = service.Queued, generated = service.Generated }));
        app.MapGet("/v1/generator", () => Results.Ok(new
        {
            id = service.GeneratorId,
            arch = service.Generator.Arch.ToString().ToLowerInvariant(),
            maxClasses = service.Generator.MaxClasses,
            textEncoder = service.Generator.TextEncoderId,
            storedClassNames = service.Generator.StoredClassNames.Count,
            sampler = "ddim",
            steps = service.Generator.DefaultDdimSteps,
            samplers = new[] { "ddim", "ddpm" },
            formats = service.Generator.Arch == Tina.PModels.PModelArch.ResNet18 ? new[] { "onnx", "mlnet", "head" } : new[] { "onnx", "mlnet" },
            images = new { maxBytes = ImageLimits.MaxBytes, maxPixels = ImageLimits.MaxPixels, maxSide = ImageLimits.MaxSide },
        }));
        app.MapPost("/v1/classifiers", async (HttpContext http, CancellationToken aborted) =>
        {
            if (http.Request.ContentLength > MaxBodyBytes)
                return Problem(StatusCodes.Status413PayloadTooLarge, $"The request body is over {MaxBodyBytes / 1024} KB.");
            ClassifierRequest? body;
            try
            {
                body = await http.Request.ReadFromJsonAsync<ClassifierRequest>(aborted);
            }
            catch (JsonException e)
            {
                return Problem(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, $"The request body is over {MaxBodyBytes / 1024} KB.");
            }
            catch (InvalidOperationException e)
            {
                return Problem(StatusCodes.Status415UnsupportedMediaType, $"Send JSON (Content-Type: application/json): {e.Message}");
            }
            TinaGenerationRequest request;
            try
            {
                request = Parse(body);
            }
            catch (Exception e) when (e is ITinaError)
            {
                return Problem(StatusCodes.Status400BadRequest, e.Message);
            }
            if (request.Format == TinaModelFormat.Head && service.Generator.Arch != Tina.PModels.PModelArch.ResNet18)
                return Problem(StatusCodes.Status400BadRequest, $"\"format\": \"head\" needs a resnet18 generator (a classifier on ML.NET's pretrained ResNet-18); this one makes whole {Tina.PModels.PModelArchNames.ToName(service.Generator.Arch)} networks: use onnx or mlnet.");
            return await Generate(http, request, aborted, model =>
            {
                http.Response.Headers["X-Tina-Labels"] = Uri.EscapeDataString(JsonSerializer.Serialize(model.Labels));
                http.Response.Headers["X-Tina-Generator"] = service.GeneratorId;
                http.Response.Headers["X-Tina-Seed"] = request.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
                http.Response.Headers["X-Tina-Method"] = model.Method;
                http.Response.Headers["X-Tina-Cache"] = model.FromCache ? "hit" : "miss";
                var file = request.Format switch { TinaModelFormat.MLNet => "classifier.zip", TinaModelFormat.Head => "classifier-head.onnx", _ => "classifier.onnx" };
                return Results.File(model.Bytes, "application/octet-stream", file);
            });
        }).Accepts<ClassifierRequest>("application/json").Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
          .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status429TooManyRequests);

        // The playground: a plain page (no build step) that generates a classifier and classifies dropped images.
        app.MapGet("/", () => Results.Content(Playground.Value, "text/html; charset=utf-8")).ExcludeFromDescription();

        // Classify one image (the body) with the classifier of a prompt and seed: generated (or taken from the cache)
        // first, then predicted in the server with ML.NET — what the playground shows per dropped image. The body may
        // be up to ImageLimits.MaxBytes (not the 64 KB of the JSON endpoint), and its header is checked against the
        // pixel limits before anything is generated or decoded: a too-large image gets 413 naming the limit.
        var predictors = new PredictorCache(32);
        app.MapPost("/v1/predict", async (HttpContext http, string? prompt, long? seed, int? steps, CancellationToken aborted) =>
        {
            TinaGenerationRequest request;
            try
            {
                request = Parse(new ClassifierRequest(null, prompt, seed, steps, null, "onnx"));
            }
            catch (Exception e) when (e is ITinaError)
            {
                return Problem(StatusCodes.Status400BadRequest, e.Message);
            }
            const string source = "The uploaded image";
            var limits = ImageLimits;
            // Kestrel's limit for this request only (the host's is the JSON endpoint's 64 KB): the image limit plus as
            // much again, read and dropped after a too-large body so that a client still sending gets the 413 rather
            // than a reset connection. The bounded read enforces the image limit itself (also on the test server).
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
                bodyLimit.MaxRequestBodySize = 2 * limits.MaxBytes;
            bool waitsForContinue = http.Request.Headers.Expect.ToString().Contains("100-continue", StringComparison.OrdinalIgnoreCase);
            byte[] image;
            try
            {
                if (http.Request.HasFormContentType)
                {
                    // An HTML form (multipart/form-data, what a browser's file input sends): its first file is the image.
                    var form = await http.Request.ReadFormAsync(aborted);
                    if (form.Files.Count == 0)
                        return Problem(StatusCodes.Status400BadRequest, "The form holds no file: send the image as a file field (curl -F image=@photo.jpg), or its bytes as the request body.");
                    var file = form.Files[0];
                    if (file.Length > limits.MaxBytes)
                        return Problem(StatusCodes.Status413PayloadTooLarge, new ImageTooLargeException(source, ImageLimitKind.Bytes, limits.MaxBytes, file.Length).Message);
                    await using var upload = file.OpenReadStream();
                    image = await TinaImages.ReadBoundedAsync(upload, source, limits.MaxBytes, aborted);
                }
                else if (http.Request.ContentLength is { } declared && declared > limits.MaxBytes)
                {
                    // A client that waits for "100 Continue" has sent nothing and is told at once; others are drained.
                    if (!waitsForContinue && declared <= 2 * limits.MaxBytes) await Discard(http.Request.Body, aborted);
                    return Problem(StatusCodes.Status413PayloadTooLarge, new ImageTooLargeException(source, ImageLimitKind.Bytes, limits.MaxBytes, declared).Message);
                }
                else
                {
                    image = await TinaImages.ReadBoundedAsync(http.Request.Body, source, limits.MaxBytes, aborted);
                }
                if (image.Length == 0) return Problem(StatusCodes.Status400BadRequest, "Send the image bytes (PNG, JPEG, BMP, WebP) as the request body.");
                TinaImages.CheckHeader(image, source, limits);
            }
            catch (ImageTooLargeException e)
            {
                if (e.Limit == ImageLimitKind.Bytes) await Discard(http.Request.Body, aborted);
                return Problem(StatusCodes.Status413PayloadTooLarge, e.Message);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Problem(StatusCodes.Status413PayloadTooLarge, new ImageTooLargeException(source, ImageLimitKind.Bytes, limits.MaxBytes, actual: null).Message);
            }
            catch (CorruptFileException e)
            {
                return Problem(StatusCodes.Status400BadRequest, NotAnImage(e));
            }
            catch (InvalidDataException e)
            {
                return Problem(StatusCodes.Status400BadRequest, $"The request body is not a readable form ({e.Message}); send the image as a file field of a multipart/form-data body, or its bytes as the body.");
            }
            return await Generate(http, request, aborted, model => predictors.Use(model, predictor =>
            {
                TinaPrediction p;
                try
                {
                    p = predictor.Predict(image);
                }
                catch (ImageTooLargeException e)
                {
                    return Problem(StatusCodes.Status413PayloadTooLarge, e.Message);
                }
                catch (CorruptFileException e)
                {
                    return Problem(StatusCodes.Status400BadRequest, NotAnImage(e));
                }
                return Results.Ok(new { predictedLabel = p.Label, scores = predictor.Labels.Select((label, i) => new { label, score = p.Scores[i] }).ToArray() });
            }));
        }).Accepts<byte[]>("application/octet-stream", "multipart/form-data").ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        app.Lifetime.ApplicationStopped.Register(() =>
        {
            service.DisposeAsync().AsTask().GetAwaiter().GetResult();
            predictors.Dispose();
        });
        return app;
    }

    private static readonly Lazy<string> Playground = new(() =>
    {
        using var stream = typeof(TinaServer).Assembly.GetManifestResourceStream("Tina.Cli.Serving.playground.html")
            ?? throw new InvalidOperationException("The playground page is not embedded in the tina executable.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Loaded predictors of recently generated models (by their bytes), so repeated images reuse one ML.NET pipeline.
    /// A predictor is lent for one request; an evicted one is disposed when its last request returns it (disposing
    /// engines that are in use breaks them), so memory stays bounded by the capacity plus the requests in flight.
    /// </summary>
    private sealed class PredictorCache(int capacity) : IDisposable
    {
        private sealed class Entry(TinaPredictor predictor)
        {
            public TinaPredictor Predictor { get; } = predictor;
            public int Users;
            public bool Evicted;
        }

        private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
        private readonly Queue<string> _order = new();
        private readonly Lock _lock = new();

        /// <summary>Runs <paramref name="use"/> with the predictor of <paramref name="model"/>.</summary>
        public T Use<T>(TinaGeneratedModel model, Func<TinaPredictor, T> use)
        {
            var key = Tina.MLNet.IO.ContentHash.Of(model.Bytes);
            Entry entry;
            lock (_lock)
            {
                if (!_byKey.TryGetValue(key, out entry!))
                {
                    _byKey[key] = entry = new Entry(TinaPredictor.FromOnnx(model.Bytes, "the generated model"));
                    _order.Enqueue(key);
                    while (_order.Count > capacity)
                    {
                        var old = _byKey[_order.Peek()];
                        _byKey.Remove(_order.Dequeue());
                        old.Evicted = true;
                        if (old.Users == 0) old.Predictor.Dispose();
                    }
                }
                entry.Users++;
            }
            try
            {
                return use(entry.Predictor);
            }
            finally
            {
                lock (_lock)
                    if (--entry.Users == 0 && entry.Evicted) entry.Predictor.Dispose();
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                foreach (var e in _byKey.Values) e.Predictor.Dispose();
                _byKey.Clear();
            }
        }
    }

    /// <summary>Checks a request body with the CLI's rules; every problem is a <see cref="TinaException"/> naming it.</summary>
    public static TinaGenerationRequest Parse(ClassifierRequest? body)
    {
        if (body is null) throw new TinaException("Send a JSON body, e.g. {\"classes\": [\"apple\", \"pear\"]} or {\"prompt\": \"apple, pear\"}.");
        bool hasClasses = body.Classes is { Length: > 0 }, hasPrompt = body.Prompt is not null;
        if (hasClasses == hasPrompt)
            throw new TinaException(hasClasses ? "Give either \"classes\" or \"prompt\", not both." : "Give \"classes\" (a list of names) or \"prompt\" (one text, e.g. \"apple, pear\").");
        var classes = hasClasses ? ClassList.Parse(body.Classes!) : ClassList.Parse(body.Prompt);
        if (body.Steps is < 1 or > 1000) throw new TinaException($"\"steps\" must be 1 to 1000; got {body.Steps}.");
        var sampler = (body.Sampler ?? "ddim").Trim().ToLowerInvariant() switch
        {
            "ddim" => DiffusionSampler.Ddim,
            "ddpm" => DiffusionSampler.Ddpm,
            var s => throw new TinaException($"Unknown \"sampler\" '{s}'; use ddim or ddpm."),
        };
        var format = (body.Format ?? "onnx").Trim().ToLowerInvariant() switch
        {
            "onnx" => TinaModelFormat.Onnx,
            "mlnet" => TinaModelFormat.MLNet,
            "head" => TinaModelFormat.Head,
            var f => throw new TinaException($"Unknown \"format\" '{f}'; use onnx, mlnet or head (resnet18 generators)."),
        };
        return new TinaGenerationRequest(classes, body.Seed ?? 0, body.Steps, sampler, format);
    }

    /// <summary>Reads the rest of a refused request body and drops it, until its end or the server's body limit.</summary>
    private static async Task Discard(Stream body, CancellationToken aborted)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (await body.ReadAsync(buffer, aborted) > 0) { }
        }
        catch (BadHttpRequestException)
        {
            // Over the drain limit too: Kestrel closes the connection after the answer.
        }
    }

    private static string NotAnImage(CorruptFileException e) =>
        $"The request body is {e.Problem}; send the bytes of a PNG, JPEG, BMP or WebP image.";

    private static IResult Problem(int status, string detail) => Results.Problem(detail: detail, statusCode: status);
}
