using Tina.Diffusion;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

/// <summary>
/// Known answers for the samplers. Every coefficient here is computed in the test, in double precision, from the
/// schedule's definition (T = 1,000 betas evenly spaced from 1e-4 to 0.02, ᾱ_t = Π_{s≤t} (1 − β_s), 0-based t) and
/// from the closed forms of the q-posterior and of the deterministic DDIM step; nothing is read back from
/// <see cref="GaussianDiffusion"/> except the sampled values. A recording denoiser sees every x_t the sampler visits,
/// so each single step is checked, not only the last one (whose coefficients make any x_t land on x̂0).
/// </summary>
public class SamplerKnownAnswerTests
{
    private const int T = 1000, B = 2, P = 96;
    private static readonly GaussianDiffusion Diffusion = new();

    /// <summary>ᾱ_t for t = 0…999 from the definition of the betas.</summary>
    private static readonly double[] AlphaBar = Schedule();

    private static double[] Schedule()
    {
        var ab = new double[T];
        double prod = 1;
        for (int t = 0; t < T; t++)
        {
            double beta = 1e-4 + (0.02 - 1e-4) * t / (T - 1);
            prod *= 1 - beta;
            ab[t] = prod;
        }
        return ab;
    }

    [Fact]
    public void AlphaBarKnownValues()
    {
        // 40-digit decimal products, computed outside .NET; the test's own schedule and the product's must agree.
        (int t, double value)[] known = [(0, 0.9999), (37, 0.98234885606822029668), (500, 0.077796658365023899898), (999, 4.0358297653756833148e-05)];
        foreach (var (t, value) in known)
        {
            Assert.Equal(value, AlphaBar[t], value * 1e-12);
            Assert.Equal(value, Diffusion.AlphasCumprod[t], value * 1e-12);
        }
    }

    [Fact]
    public void TimestepSubsequencesAreTheDocumentedOnes()
    {
        // "evenly spaced from 0 to T−1 (rounded)": round(i·999/(n−1)), i = 0…n−1.
        Assert.Equal([0, 111, 222, 333, 444, 555, 666, 777, 888, 999], Diffusion.Timesteps(10));
        Assert.Equal(
            [0, 20, 41, 61, 82, 102, 122, 143, 163, 183, 204, 224, 245, 265, 285, 306, 326, 347, 367, 387, 408, 428, 449, 469, 489,
             510, 530, 550, 571, 591, 612, 632, 652, 673, 693, 714, 734, 754, 775, 795, 816, 836, 856, 877, 897, 917, 938, 958, 979, 999],
            Diffusion.Timesteps(50));
        Assert.Equal([0, 999], Diffusion.Timesteps(2));
        Assert.Equal([999], Diffusion.Timesteps(1));
        Assert.Equal(Enumerable.Range(0, T), Diffusion.Timesteps(T));
    }

    /// <summary>The DDIM (η = 0) step from x_t with prediction x̂0 to the previous visited step (ᾱ_prev = 1 after the last).</summary>
    private static double DdimStep(double x, double x0, int t, int? prev)
    {
        double ab = AlphaBar[t], abPrev = prev is int p ? AlphaBar[p] : 1.0;
        double eps = (x - Math.Sqrt(ab) * x0) / Math.Sqrt(1 - ab);
        return Math.Sqrt(abPrev) * x0 + Math.Sqrt(1 - abPrev) * eps;
    }

    /// <summary>
    /// The q-posterior q(x_prev | x_t, x0) of the chain that jumps from ᾱ_prev to ᾱ_t (α = ᾱ_t/ᾱ_prev, β = 1 − α), derived
    /// here by Bayes' rule in precision form: prior x_prev ~ N(√ᾱ_prev·x0, 1 − ᾱ_prev), likelihood x_t ~ N(√α·x_prev, β).
    /// Returns the mean's coefficients on x0 and x_t and the posterior variance β̃.
    /// </summary>
    private static (double OnX0, double OnXt, double Variance, double Beta) Posterior(int t, int prev)
    {
        double ab = AlphaBar[t], abPrev = AlphaBar[prev], alpha = ab / abPrev, beta = 1 - alpha;
        double variance = 1 / (1 / (1 - abPrev) + alpha / beta);
        return (variance * Math.Sqrt(abPrev) / (1 - abPrev), variance * Math.Sqrt(alpha) / beta, variance, beta);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(37, 36)]
    [InlineData(500, 499)]
    [InlineData(999, 998)]
    [InlineData(999, 888)]
    [InlineData(111, 0)]
    public void PosteriorCoefficientsMatchTheTextbookClosedForm(int t, int prev)
    {
        // Ho et al. (2020), eq. 7, for the respaced chain: μ̃ = √ᾱ_prev·β/(1−ᾱ_t)·x0 + √α·(1−ᾱ_prev)/(1−ᾱ_t)·x_t,
        // β̃ = (1−ᾱ_prev)/(1−ᾱ_t)·β. Checks the Bayes derivation the sampler tests use.
        var (onX0, onXt, variance, beta) = Posterior(t, prev);
        double ab = AlphaBar[t], abPrev = AlphaBar[prev], alpha = ab / abPrev;
        Assert.Equal(Math.Sqrt(abPrev) * beta / (1 - ab), onX0, 1e-12);
        Assert.Equal(Math.Sqrt(alpha) * (1 - abPrev) / (1 - ab), onXt, 1e-12);
        Assert.Equal((1 - abPrev) / (1 - ab) * beta, variance, 1e-14);
        // The mean is unbiased: E[x_prev | x0] = √ᾱ_prev·x0 when x_t ~ q(x_t | x0).
        Assert.Equal(Math.Sqrt(abPrev), onX0 + onXt * Math.Sqrt(ab), 1e-12);
    }

    private sealed record Call(int T, float[] X, float[] X0);

    /// <summary>
    /// Runs <paramref name="sampler"/> with a denoiser that records each x_t it is given and answers
    /// <paramref name="predict"/>(t, x_t); returns the calls in order and the final sample.
    /// </summary>
    private static (List<Call> Calls, float[] Result) Run(DiffusionSampler sampler, int steps, ulong seed, Func<int, float[], float[]> predict)
    {
        var calls = new List<Call>();
        Denoiser denoiser = (xt, c, t) =>
        {
            var ts = Values64(t);
            Assert.Equal(B, ts.Length);
            Assert.All(ts, v => Assert.Equal(ts[0], v));
            var x = Values(xt);
            var x0 = predict((int)ts[0], x);
            calls.Add(new Call((int)ts[0], x, x0));
            return tensor(x0, [B, P]);
        };
        using var prompts = zeros(B, 3, 4);
        using var g = new Generator(seed, CPU);
        using var result = Diffusion.Sample(denoiser, P, prompts, sampler, steps, g);
        return (calls, Values(result));
    }

    private static long[] Values64(Tensor t)
    {
        using var c = t.cpu().contiguous();
        return c.data<long>().ToArray();
    }

    /// <summary>The <paramref name="count"/> standard normal draws [B, P] a generator seeded with <paramref name="seed"/> gives, in order.</summary>
    private static float[][] Draws(ulong seed, int count)
    {
        using var g = new Generator(seed, CPU);
        return Enumerable.Range(0, count).Select(_ =>
        {
            using var z = randn([B, P], ScalarType.Float32, generator: g);
            return Values(z);
        }).ToArray();
    }

    /// <summary>A wrong but fixed x̂0 for each t (so that every step has a non-trivial ε̂), or the true x0 from <paramref name="oracleFrom"/> down.</summary>
    private static Func<int, float[], float[]> JunkThenOracle(float[] x0, int oracleFrom) =>
        (t, _) => t <= oracleFrom ? (float[])x0.Clone() : RandomVector(10_000 + t, B * P, std: 1.0);

    private static void AssertClose(double[] expected, float[] actual, double tol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0; int at = 0;
        for (int j = 0; j < expected.Length; j++)
        {
            double err = Math.Abs(expected[j] - actual[j]) / (1 + Math.Abs(expected[j]));
            if (err > worst) { worst = err; at = j; }
        }
        Assert.True(worst <= tol, $"{what}: entry {at} is {actual[at]}, expected {expected[at]} (relative error {worst:E2} > {tol:E0})");
    }

    private static readonly float[] X0 = RandomVector(77, B * P, std: 0.5);

    [Theory]
    [InlineData(1000, 999)]
    [InlineData(1000, 500)]
    [InlineData(1000, 37)]
    [InlineData(50, 999)]
    [InlineData(50, 510)]
    [InlineData(10, 444)]
    [InlineData(7, 999)]
    public void EveryDdimStepIsTheClosedForm(int steps, int oracleFrom)
    {
        var taus = ExpectedTaus(steps);
        var (calls, result) = Run(DiffusionSampler.Ddim, steps, seed: 5, JunkThenOracle(X0, oracleFrom));
        Assert.Equal(taus.Reverse(), calls.Select(c => c.T));
        // DDIM draws once: the start x_999 is the generator's first N(0, I) draw.
        AssertClose(Draws(5, 1)[0].Select(v => (double)v).ToArray(), calls[0].X, 0, "x_999");

        // Single steps: x_prev from the recorded x_t and x̂0, at every visited t (including t = 999, 500, 37 for 1,000 steps).
        for (int k = 0; k < calls.Count; k++)
        {
            var c = calls[k];
            int? prev = k + 1 < calls.Count ? calls[k + 1].T : null;
            var expected = Enumerable.Range(0, B * P).Select(j => DdimStep(c.X[j], c.X0[j], c.T, prev)).ToArray();
            AssertClose(expected, prev is null ? result : calls[k + 1].X, 5e-6, $"DDIM step {c.T} → {prev?.ToString() ?? "x0"}");
        }

        // With a perfect x̂0 from oracleFrom on, the path is DDIM's deterministic one, x_τ = √ᾱ_τ·x0 + √(1−ᾱ_τ)·ε with the ε
        // implied by the first x it was given, and it returns x0 exactly.
        int first = calls.FindIndex(c => c.T <= oracleFrom);
        var start = calls[first];
        var eps = Enumerable.Range(0, B * P).Select(j => (start.X[j] - Math.Sqrt(AlphaBar[start.T]) * X0[j]) / Math.Sqrt(1 - AlphaBar[start.T])).ToArray();
        foreach (var c in calls.Skip(first + 1))
        {
            var onPath = Enumerable.Range(0, B * P).Select(j => Math.Sqrt(AlphaBar[c.T]) * X0[j] + Math.Sqrt(1 - AlphaBar[c.T]) * eps[j]).ToArray();
            AssertClose(onPath, c.X, 5e-5, $"oracle DDIM path at t = {c.T} (from {start.T})");
        }
        AssertClose(X0.Select(v => (double)v).ToArray(), result, 1e-6, "oracle DDIM result");
    }

    [Theory]
    [InlineData(1000, 999)]
    [InlineData(1000, 500)]
    [InlineData(1000, 37)]
    [InlineData(25, 999)]
    [InlineData(10, 444)]
    public void EveryDdpmStepIsTheQPosteriorPlusLargeVarianceNoise(int steps, int oracleFrom)
    {
        var taus = ExpectedTaus(steps);
        var (calls, result) = Run(DiffusionSampler.Ddpm, steps, seed: 9, JunkThenOracle(X0, oracleFrom));
        Assert.Equal(taus.Reverse(), calls.Select(c => c.T));
        // All randomness from the caller's generator, in order: the start x_999, then one draw per step except the last.
        var z = Draws(9, steps);
        AssertClose(z[0].Select(v => (double)v).ToArray(), calls[0].X, 0, "x_999");

        for (int k = 0; k < calls.Count; k++)
        {
            var c = calls[k];
            if (k + 1 == calls.Count)
            {
                // Last step (ᾱ_prev = 1): the posterior is a point mass at x̂0, no noise.
                AssertClose(c.X0.Select(v => (double)v).ToArray(), result, 1e-6, $"DDPM step {c.T} → x0");
                continue;
            }
            int prev = calls[k + 1].T;
            var (onX0, onXt, _, beta) = Posterior(c.T, prev);
            // Mean: the q-posterior mean; noise: the documented fixed large variance β (not β̃), from draw k + 1.
            var expected = Enumerable.Range(0, B * P).Select(j => onX0 * c.X0[j] + onXt * c.X[j] + Math.Sqrt(beta) * z[k + 1][j]).ToArray();
            AssertClose(expected, calls[k + 1].X, 5e-6, $"DDPM step {c.T} → {prev}");
        }
        AssertClose(X0.Select(v => (double)v).ToArray(), result, 1e-6, "oracle DDPM result");
    }

    private static int[] ExpectedTaus(int steps) =>
        Enumerable.Range(0, steps).Select(i => (int)Math.Round((double)i * (T - 1) / (steps - 1))).ToArray();
}
