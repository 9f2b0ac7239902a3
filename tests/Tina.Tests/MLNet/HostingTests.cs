using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Tina.MLNet;
using Tina.MLNet.Errors;

namespace Tina.Tests.MLNet;

/// <summary>
/// <c>AddTinaPredictor</c> in an ASP.NET Core app: options bound from configuration and checked at start, one pooled
/// predictor for all requests, a health check, and an endpoint that takes multipart uploads and raw bodies
/// asynchronously (the README's shape; PackagesTests runs the README's own code from the packages).
/// </summary>
public class HostingTests
{
    private static CancellationToken Cancel => CancellationToken.None;

    private static string ModelFile()
    {
        var path = Path.Combine(TestData.TempDir(), "fruit.onnx");
        File.WriteAllBytes(path, ThreeClassFixture.Instance.Onnx);
        return path;
    }

    private static WebApplication App(Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        configure(builder);
        builder.Services.AddHealthChecks().AddCheck<TinaPredictorHealthCheck>("tina");
        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        app.MapPost("/predict", async (HttpRequest request, TinaPredictor predictor, CancellationToken cancel) =>
        {
            try
            {
                TinaPrediction p;
                if (request.HasFormContentType)
                {
                    var form = await request.ReadFormAsync(cancel);
                    if (form.Files.Count == 0) return Results.Problem("Send the image as a file field.", statusCode: 400);
                    await using var file = form.Files[0].OpenReadStream();
                    p = await predictor.PredictAsync(file, form.Files[0].FileName, cancel);
                }
                else
                {
                    p = await predictor.PredictAsync(request.Body, "the request body", cancel);
                }
                return Results.Ok(new { label = p.Label, score = p.Score });
            }
            catch (ImageTooLargeException e) { return Results.Problem(e.Message, statusCode: 413); }
            catch (CorruptFileException e) { return Results.Problem(e.Message, statusCode: 400); }
        });
        return app;
    }

    [Fact]
    public async Task APredictorFromConfigurationServesMultipartAndRawBodies()
    {
        var f = ThreeClassFixture.Instance;
        var image = File.ReadAllBytes(Path.Combine(f.ImageDir, f.FileNames[0]));
        using var reference = TinaPredictor.FromOnnx(f.Onnx);
        var expected = reference.Predict(image).Label;

        await using var app = App(b =>
        {
            b.Configuration["Tina:ModelPath"] = ModelFile();
            b.Configuration["Tina:MaxImageBytes"] = "1000000";
            b.Services.AddTinaPredictor();
        });
        await app.StartAsync(Cancel);
        var client = app.GetTestClient();

        var health = await client.GetAsync("/healthz", Cancel);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(image);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(part, "image", "apple.png");
        var multipart = await client.PostAsync("/predict", form, Cancel);
        Assert.Equal(HttpStatusCode.OK, multipart.StatusCode);
        Assert.Equal(expected, Label(await multipart.Content.ReadAsStringAsync(Cancel)));

        var raw = await client.PostAsync("/predict", new ByteArrayContent(image), Cancel);
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        Assert.Equal(expected, Label(await raw.Content.ReadAsStringAsync(Cancel)));

        var garbage = await client.PostAsync("/predict", new ByteArrayContent("not an image"u8.ToArray()), Cancel);
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        var tooLarge = await client.PostAsync("/predict", new ByteArrayContent(new byte[1_000_001]), Cancel);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);

        // One predictor for the app, with the configured limits.
        var predictor = app.Services.GetRequiredService<TinaPredictor>();
        Assert.Same(predictor, app.Services.GetRequiredService<TinaPredictor>());
        Assert.Equal(1_000_000, predictor.ImageLimits.MaxBytes);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => predictor.PredictAsync(image, new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task AMissingModelFailsTheStartNamingTheFile()
    {
        var missing = Path.Combine(TestData.TempDir(), "nope.zip");
        await using var app = App(b => b.Services.AddTinaPredictor(o => o.ModelPath = missing));
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(Cancel));
        Assert.Contains(missing, e.Message);
        Assert.Contains("does not exist", e.Message);

        await using var unset = App(b => b.Services.AddTinaPredictor());
        var none = await Assert.ThrowsAsync<OptionsValidationException>(() => unset.StartAsync(Cancel));
        Assert.Contains("Tina:ModelPath", none.Message);
    }

    [Fact]
    public async Task TheHealthCheckReportsACorruptModel()
    {
        var corrupt = Path.Combine(TestData.TempDir(), "corrupt.onnx");
        File.WriteAllText(corrupt, "not a model");
        var services = new ServiceCollection();
        services.AddTinaPredictor(o => o.ModelPath = corrupt);
        await using var provider = services.BuildServiceProvider();
        var check = provider.GetRequiredService<TinaPredictorHealthCheck>();
        var registration = new HealthCheckRegistration("tina", check, HealthStatus.Unhealthy, null);
        var result = await check.CheckHealthAsync(new HealthCheckContext { Registration = registration }, Cancel);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains(corrupt, result.Description);
    }

    private static string Label(string json) => JsonDocument.Parse(json).RootElement.GetProperty("label").GetString()!;
}
