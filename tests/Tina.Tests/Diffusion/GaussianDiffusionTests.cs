using Tina.Diffusion;
using Tina.PModels;
using Tina.Runtime;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

public class GaussianDiffusionTests
{
    private static readonly GaussianDiffusion Diffusion = new();

    [Fact]
    public void LinearScheduleValues()
    {
        Assert.Equal(1000, Diffusion.Steps);
        Assert.Equal(1e-4, Diffusion.Betas[0], 15);
        Assert.Equal(0.02, Diffusion.Betas[999], 15);
        Assert.Equal(1e-4 + 0.0199 / 999 * 500, Diffusion.Betas[500], 15);
        Assert.Equal(1 - 1e-4, Diffusion.AlphasCumprod[0], 15);
        Assert.Equal((1 - 1e-4) * (1 - (1e-4 + 0.0199 / 999)), Diffusion.AlphasCumprod[1], 15);
        for (int t = 1; t < 1000; t++) Assert.True(Diffusion.AlphasCumprod[t] < Diffusion.AlphasCumprod[t - 1]);
        // ᾱ_T by an independent route (sum of logs) ≈ 4.036e-5 for this schedule.
        double logSum = 0;
        for (int t = 0; t < 1000; t++) logSum += Math.Log(1 - (1e-4 + (0.02 - 1e-4) * t / 999.0));
        Assert.Equal(Math.Exp(logSum), Diffusion.AlphasCumprod[999], 1e-15);
        Assert.InRange(Diffusion.AlphasCumprod[999], 4.0e-5, 4.1e-5);
    }

    [Fact]
    public void TimestepsAreEvenlySpacedAndEndAtT()
    {
        Assert.Equal(Enumerable.Range(0, 1000), Diffusion.Timesteps(1000));
        var fifty = Diffusion.Timesteps(50);
        Assert.Equal(50, fifty.Length);
        Assert.Equal(0, fifty[0]);
        Assert.Equal(999, fifty[^1]);
        Assert.Equal([999], Diffusion.Timesteps(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Diffusion.Timesteps(1001));
    }

    [Fact]
    public void QSampleHasTheForwardMarginal()
    {
        using var x0 = ones(4, 50_000).TimesInPlace(2.0);
        using var noise = Randn(7, 4, 50_000);
        using var t = tensor(new long[] { 0, 100, 500, 999 });
        using var xt = Diffusion.QSample(x0, t, noise);
        for (int i = 0; i < 4; i++)
        {
            int step = (int)t[i].item<long>();
            double a = Math.Sqrt(Diffusion.AlphasCumprod[step]), s = Math.Sqrt(1 - Diffusion.AlphasCumprod[step]);
            using var row = xt[i];
            Assert.Equal(2 * a, row.mean().item<float>(), 0.02);
            Assert.Equal(s, row.std().item<float>(), 0.02);
            // Exactly the formula, element by element.
            using var expected = TensorMath.Combine(a, x0[i], s, noise[i]);
            Assert.True(row.allclose(expected, rtol: 1e-6, atol: 1e-6));
        }
    }

    [Theory]
    [InlineData(DiffusionSampler.Ddpm, 1000)]
    [InlineData(DiffusionSampler.Ddpm, 25)]
    [InlineData(DiffusionSampler.Ddim, 50)]
    [InlineData(DiffusionSampler.Ddim, 7)]
    public void AnOracleDenoiserIsRecoveredExactly(DiffusionSampler sampler, int steps)
    {
        // With a perfect x0 prediction both samplers must land on x0. The last step lands on x̂0 whatever x_t is, so this
        // cannot see wrong intermediate coefficients: SamplerKnownAnswerTests checks every step.
        using var target = Randn(11, 1, 300);
        Denoiser oracle = (xt, c, t) => target.expand(xt.shape[0], 300);
        using var prompts = zeros(3, 10, 4);
        using var g = new Generator(5, CPU);
        using var x = Diffusion.Sample(oracle, 300, prompts, sampler, steps, g);
        Assert.Equal([3L, 300], x.shape);
        Assert.True(x.allclose(target.expand(3, 300), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void SamplerShapesOnTheTransformer()
    {
        using var model = TinyTina.Model(PModelArch.ResNet20);
        model.eval();
        using var prompts = TinyTina.Prompts(2, 2);
        using var ddpm = Diffusion.Sample(model, prompts, DiffusionSampler.Ddpm, null, seed: 1);
        using var ddim = Diffusion.Sample(model, prompts, DiffusionSampler.Ddim, 10, seed: 1);
        Assert.Equal([2L, 650], ddpm.shape);
        Assert.Equal([2L, 650], ddim.shape);
        Assert.True(ddpm.isfinite().all().item<bool>());
        Assert.True(ddim.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(DiffusionSampler.Ddpm)]
    [InlineData(DiffusionSampler.Ddim)]
    public void SameSeedIsBitwiseEqualOtherSeedDiffers(DiffusionSampler sampler)
    {
        using var model = TinyTina.Model(PModelArch.ResNet20);
        model.eval();
        using var prompts = TinyTina.Prompts(3, 2);
        var a = Values(Diffusion.Sample(model, prompts, sampler, 20, seed: 42));
        var b = Values(Diffusion.Sample(model, prompts, sampler, 20, seed: 42));
        var c = Values(Diffusion.Sample(model, prompts, sampler, 20, seed: 43));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(DiffusionSampler.Ddpm)]
    [InlineData(DiffusionSampler.Ddim)]
    public void EachGeneratorBlockIsTheSampleOfItsOwnSeed(DiffusionSampler sampler)
    {
        // A row-wise denoiser, so that batching cannot change any number: block g of a run with several generators
        // must be exactly what generator g gives alone (initial noise and DDPM's noise at every step).
        Denoiser rowWise = (xt, c, t) => Tina.Runtime.TensorMath.Times(xt, 0.5);
        using var prompts = zeros(6, 10, 4);
        using var three = zeros(3, 10, 4);
        float[] Run(Tensor p, params ulong[] seeds)
        {
            var gens = seeds.Select(s => new Generator(s, CPU)).ToList();
            try { return Values(Diffusion.Sample(rowWise, 40, p, sampler, 20, gens)); }
            finally { gens.ForEach(g => g.Dispose()); }
        }
        var both = Run(prompts, 7, 8);
        var first = Run(three, 7);
        var second = Run(three, 8);
        Assert.Equal(first.Concat(second), both);
        Assert.NotEqual(first, second);
        // One generator in a list draws exactly what the single-generator overload draws.
        using (var g = new Generator(7, CPU))
            Assert.Equal(first, Values(Diffusion.Sample(rowWise, 40, three, sampler, 20, g)));
        // The batch must split evenly.
        Assert.Throws<ArgumentException>(() => Run(three, 7, 8));
    }

    [Fact]
    public void ConcurrentSamplingMatchesSequential()
    {
        using var model = TinyTina.Model(PModelArch.ResNet20);
        model.eval();
        using var prompts = TinyTina.Prompts(4, 2);
        var seeds = new long[] { 1, 2, 3, 4 };
        var sequential = seeds.Select(s => Values(Diffusion.Sample(model, prompts, DiffusionSampler.Ddpm, 30, seed: s))).ToArray();
        var concurrent = new float[seeds.Length][];
        var threads = seeds.Select((s, i) => new Thread(() => concurrent[i] = Values(Diffusion.Sample(model, prompts, DiffusionSampler.Ddpm, 30, seed: s)))).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        for (int i = 0; i < seeds.Length; i++) Assert.Equal(sequential[i], concurrent[i]);
    }

    [Fact]
    public void MaskZeroesPaddingInSamples()
    {
        using var model = TinyTina.Model(PModelArch.ResNet20);
        model.eval();
        var padding = new SequencePadding(PModelArch.ResNet20);
        using var prompts = TinyTina.Prompts(5, 2);
        using var mask = padding.MaskTensor([3, 7]);
        var x = Values(Diffusion.Sample(model, prompts, DiffusionSampler.Ddim, 5, seed: 9, mask));
        var m = Values(mask);
        for (int j = 0; j < x.Length; j++)
            if (m[j] == 0) Assert.Equal(0f, x[j]);
        Assert.Contains(x, v => v != 0);
    }

    [Fact]
    public void MaskedLossIgnoresPadding()
    {
        var padding = new SequencePadding(PModelArch.ResNet20);
        using var mask = padding.MaskTensor([3]);
        using var target = Randn(1, 1, 650) * mask;
        using var pred = Randn(2, 1, 650);
        using var garbage = (pred * mask).Plus(mask.SubtractFrom(1.0), 1000.0);
        using var l1 = GaussianDiffusion.MaskedMse(pred, target, mask);
        using var l2 = GaussianDiffusion.MaskedMse(garbage, target, mask);
        Assert.Equal(l1.item<float>(), l2.item<float>());
        // It is the mean over the real entries only.
        using var real = ((pred - target).square() * mask).sum() / mask.sum();
        Assert.Equal(real.item<float>(), l1.item<float>(), 6);
    }

    [Fact]
    public void TrainingLossIsSeededAndDifferentiable()
    {
        using var model = TinyTina.Model(PModelArch.ResNet20);
        using var x0 = Randn(1, 4, 650).TimesInPlace(0.1);
        using var prompts = TinyTina.Prompts(2, 4);
        using var g1 = new Generator(3, CPU);
        using var g2 = new Generator(3, CPU);
        using var l1 = Diffusion.TrainingLoss(model, x0, prompts, null, g1);
        using var l2 = Diffusion.TrainingLoss(model, x0, prompts, null, g2);
        Assert.Equal(l1.item<float>(), l2.item<float>());
        l1.backward();
        Assert.All(model.parameters(), p => Assert.NotNull(p.grad));
    }
}
