namespace Tina.Runtime.Optim;

/// <summary>
/// A learning-rate schedule over <see cref="TotalSteps"/> optimizer steps: a linear warm-up from
/// <see cref="PeakRate"/>/<see cref="WarmupSteps"/> to <see cref="PeakRate"/> over the first <see cref="WarmupSteps"/>
/// steps, then a half cosine from <see cref="PeakRate"/> down towards 0 over the remaining steps. With no warm-up it is
/// the plain cosine schedule. Set <see cref="Optimizer.LearningRate"/> to <see cref="At"/> before every step.
/// </summary>
/// <param name="PeakRate">The learning rate at the end of the warm-up (and at the first step without one).</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="WarmupSteps">Steps of linear warm-up (0 for none).</param>
public readonly record struct WarmupCosineSchedule(double PeakRate, long TotalSteps, long WarmupSteps = 0)
{
    /// <summary>The learning rate of the 0-based step <paramref name="step"/> of the run.</summary>
    public double At(long step) =>
        step < WarmupSteps
            ? PeakRate * (step + 1) / WarmupSteps
            : 0.5 * PeakRate * (1 + Math.Cos(Math.PI * (step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps)));
}
