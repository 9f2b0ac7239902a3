using Tina.Runtime.Optim;

namespace Tina.Tests.Runtime;

public class WarmupCosineScheduleTests
{
    [Fact]
    public void KnownValuesWithWarmup()
    {
        // 100 steps, 10 of them warm-up, peak 0.1.
        var s = new WarmupCosineSchedule(0.1, TotalSteps: 100, WarmupSteps: 10);
        Assert.Equal(0.01, s.At(0), 1e-15);                  // first warm-up step: peak / warm-up steps
        Assert.Equal(0.05, s.At(4), 1e-15);                  // halfway up
        Assert.Equal(0.1, s.At(9), 1e-15);                   // last warm-up step reaches the peak
        Assert.Equal(0.1, s.At(10));                         // the cosine starts at the peak: cos 0 = 1
        Assert.Equal(0.05, s.At(55), 1e-15);                 // middle of the cosine (45 of 90 steps)
        // Last step: 89 of 90 cosine steps, 0.05 (1 + cos(89π/90)) = 0.05 (1 − cos(π/90)).
        Assert.Equal(3.0458649045211895e-05, s.At(99), 1e-18);
        for (long i = 1; i < 10; i++) Assert.True(s.At(i) > s.At(i - 1), $"warm-up not rising at step {i}");
        for (long i = 11; i < 100; i++) Assert.True(s.At(i) < s.At(i - 1), $"cosine not falling at step {i}");
        Assert.All(Enumerable.Range(0, 100), i => Assert.True(s.At(i) > 0));
    }

    [Fact]
    public void WithoutWarmupItIsThePlainCosine()
    {
        var s = new WarmupCosineSchedule(0.01, TotalSteps: 40);
        Assert.Equal(0.01, s.At(0));
        Assert.Equal(0.005, s.At(20), 1e-17);
        Assert.Equal(0.5 * 0.01 * (1 + Math.Cos(Math.PI * 39 / 40)), s.At(39));
        // Bit for bit the cosine the fine-tuner used before the schedule existed (its p-Model zoos stay reproducible).
        foreach (var (lr, total) in new[] { (0.01, 40L), (0.05, 7L), (0.05, 1L), (0.0123, 1000L) })
            for (long t = 0; t < total; t++)
                Assert.Equal((float)(0.5 * lr * (1 + Math.Cos(Math.PI * t / total))), (float)new WarmupCosineSchedule(lr, total).At(t));
    }

    [Fact]
    public void WarmupOverTheWholeRunNeverDividesByZero()
    {
        var s = new WarmupCosineSchedule(1.0, TotalSteps: 4, WarmupSteps: 4);
        Assert.Equal([0.25, 0.5, 0.75, 1.0], Enumerable.Range(0, 4).Select(i => s.At(i)));
        Assert.Equal(1.0, s.At(4));                          // past the end: the cosine's start, not NaN
    }
}
