using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tina.MLNet;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers Tina's predictor in a service collection (ASP.NET Core, the generic host, any
/// <c>Microsoft.Extensions.DependencyInjection</c> container), the way ML.NET's <c>PredictionEnginePool</c> is
/// registered: one thread-safe <see cref="TinaPredictor"/> per app — it pools ML.NET prediction engines, one per
/// concurrent request, and never disposes one while others run — created on first use and disposed with the container.
/// </summary>
public static class TinaServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="TinaPredictor"/> singleton whose <see cref="TinaPredictorOptions"/> come from the
    /// configuration section <c>Tina</c> (when the container holds an <see cref="IConfiguration"/>, as an ASP.NET Core
    /// app's does), then <paramref name="configure"/>. The options are checked when the host starts (a missing model file
    /// fails the start with a message naming it); the model loads when the predictor is first resolved — inject it into
    /// an endpoint, or resolve it once at start-up to load it early. Add <see cref="TinaPredictorHealthCheck"/> to the
    /// health checks to report whether it loads.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets or overrides options in code, e.g. <c>o =&gt; o.ModelPath = "fruit.zip"</c>.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddTinaPredictor(o => o.ModelPath = "fruit.zip");
    /// builder.Services.AddHealthChecks().AddCheck&lt;TinaPredictorHealthCheck&gt;("tina");
    /// app.MapPost("/predict", async (IFormFile image, TinaPredictor predictor, CancellationToken cancel) =>
    ///     (await predictor.PredictAsync(image.OpenReadStream(), image.FileName, cancel)).Label);
    /// </code>
    /// </example>
    public static IServiceCollection AddTinaPredictor(this IServiceCollection services, Action<TinaPredictorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<TinaPredictorOptions>()
            .Configure<IServiceProvider>((o, provider) =>
            {
                if (provider.GetService<IConfiguration>() is { } configuration)
                    configuration.GetSection(TinaPredictorOptions.SectionName).Bind(o);
            });
        if (configure is not null) options.Configure(configure);
        return AddPredictor(services, options);
    }

    /// <summary>
    /// Registers a <see cref="TinaPredictor"/> singleton whose <see cref="TinaPredictorOptions"/> are bound from
    /// <paramref name="configuration"/> (e.g. <c>builder.Configuration.GetSection("Models:Fruit")</c>); otherwise as
    /// <see cref="AddTinaPredictor(IServiceCollection, Action{TinaPredictorOptions}?)"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section holding <c>ModelPath</c> and the image limits.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddTinaPredictor(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        return AddPredictor(services, services.AddOptions<TinaPredictorOptions>().Bind(configuration));
    }

    private static IServiceCollection AddPredictor(IServiceCollection services, OptionsBuilder<TinaPredictorOptions> options)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TinaPredictorOptions>, TinaPredictorOptionsValidator>());
        options.ValidateOnStart();
        services.TryAddSingleton(provider =>
        {
            var o = provider.GetRequiredService<IOptions<TinaPredictorOptions>>().Value;
            var predictor = TinaPredictor.Load(o.ModelPath);
            try
            {
                predictor.ImageLimits = o.ToImageLimits();
            }
            catch
            {
                predictor.Dispose();
                throw;
            }
            return predictor;
        });
        services.TryAddSingleton<TinaPredictorHealthCheck>();
        return services;
    }
}

/// <summary>Checks <see cref="TinaPredictorOptions"/> when the host starts: a model path that names an existing file, positive limits.</summary>
internal sealed class TinaPredictorOptionsValidator : IValidateOptions<TinaPredictorOptions>
{
    public ValidateOptionsResult Validate(string? name, TinaPredictorOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ModelPath))
            return ValidateOptionsResult.Fail($"Set the Tina model: {TinaPredictorOptions.SectionName}:{nameof(TinaPredictorOptions.ModelPath)} in the configuration (appsettings.json: \"Tina\": {{ \"ModelPath\": \"model.zip\" }}), or AddTinaPredictor(o => o.ModelPath = \"model.zip\").");
        if (!File.Exists(options.ModelPath))
            return ValidateOptionsResult.Fail($"The Tina model {Path.GetFullPath(options.ModelPath)} ({TinaPredictorOptions.SectionName}:{nameof(TinaPredictorOptions.ModelPath)}) does not exist. Expected an .onnx file from 'tina export' or an ML.NET .zip.");
        if (options.MaxImageBytes < 1 || options.MaxImagePixels < 1 || options.MaxImageSide < 1)
            return ValidateOptionsResult.Fail($"The image limits of {TinaPredictorOptions.SectionName} must be at least 1 (MaxImageBytes {options.MaxImageBytes}, MaxImagePixels {options.MaxImagePixels}, MaxImageSide {options.MaxImageSide}).");
        return ValidateOptionsResult.Success;
    }
}
