using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Tina.MLNet.Errors;

namespace Tina.MLNet;

/// <summary>
/// A health check for the <see cref="TinaPredictor"/> registered by <c>AddTinaPredictor</c>: healthy once the model is
/// loaded (the first check loads it), with its labels and source in the result's data; unhealthy with Tina's message
/// when it cannot load (a missing or corrupt model). Add it with
/// <c>builder.Services.AddHealthChecks().AddCheck&lt;TinaPredictorHealthCheck&gt;("tina")</c>.
/// </summary>
/// <param name="services">The app's services, from which the predictor is resolved when checked.</param>
public sealed class TinaPredictorHealthCheck(IServiceProvider services) : IHealthCheck
{
    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var predictor = services.GetRequiredService<TinaPredictor>();
            var data = new Dictionary<string, object>
            {
                ["source"] = predictor.Source,
                ["labels"] = predictor.Labels.ToArray(),
            };
            return Task.FromResult(HealthCheckResult.Healthy($"Tina model {predictor.Source}: {predictor.Labels.Count} classes.", data));
        }
        catch (Exception e) when (e is ITinaError or Microsoft.Extensions.Options.OptionsValidationException)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, e.Message, e));
        }
    }
}
