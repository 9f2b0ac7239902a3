using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Runtime;
using Tina.Runtime.Optim;
using Tina.Zoo;
using TorchSharp;
using Tina.Tests.Child;
using TorchSharp.Modules;
using static TorchSharp.torch;
using AdamW = Tina.Runtime.Optim.AdamW;

namespace Tina.Tests.Runtime;

/// <summary>
/// TorchSharp frees implicitly created Scalars from the finalizer, possibly while libtorch still reads them. These
/// tests run the project's Scalar-safe arithmetic, batch norm and optimizers while another thread forces garbage
/// collections and finalizers without pause (the condition under which TorchSharp's implicit overloads fail within
/// a few thousand calls), and check the arithmetic against closed forms and against TorchSharp's own modules.
/// </summary>
public class ScalarLifetimeTests
{
    [Fact]
    public void ArithmeticOptimizersAndBatchNormSurviveConstantGarbageCollection()
    {
        const int n = 3000;
        using var counter = zeros(1, dtype: ScalarType.Int64);
        using var f = ones(64);
        var p = new Parameter(ones(8, 4));
        var q = new Parameter(ones(8, 4));
        using var adam = new AdamW(new[] { p }, 1e-3, 0.1);
        using var sgd = new Sgd([new ParameterGroup([q], 1e-4)], 1e-2, 0.9, nesterov: true);
        var stacked = new Parameter(ones(4, 3, 2));
        var masked = new MaskedSgd([stacked], momentum: 0.9, weightDecay: 1e-4);
        using var bn = new BatchNormalization(3);
        bn.train();
        using var g = new Generator(17, CPU);
        using var x = randn([4, 3, 5, 5], generator: g);
        GcPressure.Run(() =>
        {
            for (int i = 0; i < n; i++)
            {
                using var scope = NewDisposeScope();
                counter.PlusInPlace(1L);
                f.TimesInPlace(0.5).PlusInPlace(f, 1.0);          // f stays 1: 0.5·f + 0.5·f
                f.DivideInPlace(2.0).PlusInPlace(0.5);          // and again: 1/2 + 1/2
                _ = f.Plus(f).SubtractFrom(3.0).Greater(0.0).AtLeast(0.0);
                using var y = bn.forward(x);
                p.grad = ones(8, 4); q.grad = ones(8, 4); stacked.grad = ones(4, 3, 2);
                adam.Step(); sgd.Step(); masked.Step([0.01f, 0.01f, 0.01f, 0.01f], [1f, 0f, 1f, 0f]);
            }
        });
        Assert.Equal(n, counter.item<long>());
        using var check = NewDisposeScope();
        Assert.True(f.data<float>().ToArray().All(v => v == 1f), "f changed: an arithmetic call read a wrong Scalar");
        Assert.Equal(n, adam.StepCount);
        Assert.True(p.isfinite().all().item<bool>() && q.isfinite().all().item<bool>());
        Assert.Equal(1f, stacked[1].mean().item<float>());  // a switched-off model is untouched
    }

    [Fact]
    public void NegativeControl_TheHarnessCatchesTorchSharpsOwnOverloads()
    {
        // The same harness must be able to fail: TorchSharp's banned overloads, in a child process (it may crash),
        // fail within a few thousand to ~20,000 iterations (about a second); the same loop written with TensorMath
        // survives in the same setting.
        var (code, output, elapsed, timedOut) = ChildProgram.Run(TimeSpan.FromSeconds(60), "banned-scalars", "500000", "20");
        Assert.False(timedOut, $"the child process hung for {elapsed.TotalSeconds:F0} s: {output}");
        Assert.True(code != 0 && !output.Contains("SURVIVED"),
            $"TorchSharp's unsafe Scalar overloads survived the GC-pressure harness, so it can no longer detect the bug it guards against (exit {code}): {output}");
        Assert.True(code == 3 || !output.Contains("EXCEPTION"), $"the child process failed for another reason (exit {code}): {output}");

        (code, output, elapsed, timedOut) = ChildProgram.Run(TimeSpan.FromSeconds(60), "safe-scalars", "40000", "20");
        Assert.True(code == 0 && output.Contains("SURVIVED"), $"TensorMath failed under the harness (exit {code}, {elapsed.TotalSeconds:F0} s): {output}");
    }

    [Fact]
    public void AdamWMatchesTheClosedForm()
    {
        double lr = 0.1, wd = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
        double[] p0 = [1.0, -2.0], g = [0.5, 0.1];
        var p = new Parameter(tensor(p0.Select(v => (float)v).ToArray()));
        using var opt = new AdamW(new[] { p }, lr, wd);
        var expected = (double[])p0.Clone();
        double[] m = new double[2], v = new double[2];
        for (int step = 1; step <= 3; step++)
        {
            p.grad = tensor(g.Select(x => (float)x).ToArray());
            opt.Step();
            for (int i = 0; i < 2; i++)
            {
                expected[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(b1, step)), vHat = v[i] / (1 - Math.Pow(b2, step));
                expected[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
        var actual = p.data<float>().ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void NesterovSgdMatchesTheClosedForm()
    {
        double lr = 0.1, wd = 0.01, mu = 0.9;
        var p = new Parameter(tensor(new[] { 1f }));
        using var opt = new Sgd([new ParameterGroup([p], wd)], lr, mu, nesterov: true);
        double x = 1, buf = 0;
        foreach (var grad in new[] { 0.5, -0.25, 1.0 })
        {
            p.grad = tensor(new[] { (float)grad });
            opt.Step();
            double d = grad + wd * x;
            buf = mu * buf + d;
            x -= lr * (d + mu * buf);
        }
        Assert.Equal(x, p.data<float>()[0], 5);
    }

    [Fact]
    public void SavedStateContinuesBitForBit()
    {
        var dir = Directory.CreateTempSubdirectory("tina-optim-").FullName;
        try
        {
            var a = new Parameter(tensor(new[] { 1f, 2f, 3f }));
            var b = new Parameter(tensor(new[] { 1f, 2f, 3f }));
            using var optA = new AdamW(new[] { a }, 0.05, 0.1);
            using var optB = new AdamW(new[] { b }, 0.05, 0.1);
            for (int i = 0; i < 3; i++) { a.grad = tensor(new[] { 0.3f, -0.2f, 0.1f * i }); optA.Step(); }
            var path = Path.Combine(dir, "optim.safetensors");
            optA.SaveState(path);
            using (no_grad()) b.copy_(a);
            optB.LoadState(path);
            Assert.Equal(3, optB.StepCount);
            a.grad = tensor(new[] { 0.7f, 0.1f, -0.4f }); b.grad = tensor(new[] { 0.7f, 0.1f, -0.4f });
            optA.Step(); optB.Step();
            Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
            using var sgd = new Sgd([new ParameterGroup([b])], 0.1);
            Assert.Throws<CorruptFileException>(() => sgd.LoadState(path));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BatchNormMatchesPyTorchsBatchNorm2dClosedForm()
    {
        // PyTorch's BatchNorm2d (momentum 0.1, ε = 1e-5), computed here in double: training normalises with the batch
        // mean and biased variance and moves the running mean and the *unbiased* variance 10 % towards them;
        // evaluation normalises with the running statistics.
        const int n = 8, c = 6, h = 4, w = 4;
        using var ours = new BatchNormalization(c);
        Assert.Equal(["bias", "running_mean", "running_var", "weight"], ours.state_dict().Select(kv => kv.Key).Order());
        using var g = new Generator(3, CPU);
        var gamma = Draw(g, c, uniform: true).Select(v => v + 0.5f).ToArray();
        var beta = Draw(g, c);
        using (no_grad())
        {
            ours.Weight.copy_(tensor(gamma));
            ours.Bias.copy_(tensor(beta));
        }
        double[] runMean = new double[c], runVar = Enumerable.Repeat(1.0, c).ToArray();
        ours.train();
        for (int step = 0; step < 3; step++)
        {
            var x = Draw(g, n * c * h * w).Select(v => 3 * v).ToArray();
            using var xt = tensor(x, [n, c, h, w]);
            using var y = ours.forward(xt);
            var expected = new double[x.Length];
            for (int ch = 0; ch < c; ch++)
            {
                var idx = Enumerable.Range(0, n).SelectMany(i => Enumerable.Range((i * c + ch) * h * w, h * w)).ToArray();
                double mean = idx.Average(j => (double)x[j]);
                double biased = idx.Average(j => (x[j] - mean) * (x[j] - mean));
                foreach (var j in idx) expected[j] = gamma[ch] * (x[j] - mean) / Math.Sqrt(biased + 1e-5) + beta[ch];
                runMean[ch] = 0.9 * runMean[ch] + 0.1 * mean;
                runVar[ch] = 0.9 * runVar[ch] + 0.1 * biased * idx.Length / (idx.Length - 1);
            }
            AssertClose(expected, y, 1e-5);
        }
        AssertClose(runMean, ours.RunningMean, 1e-6);
        AssertClose(runVar, ours.RunningVar, 1e-6);
        ours.eval();
        var z = Draw(g, 2 * c * h * w);
        using var zt = tensor(z, [2, c, h, w]);
        using var e = ours.forward(zt);
        var evalExpected = z.Select((v, j) => { int ch = j / (h * w) % c; return gamma[ch] * (v - runMean[ch]) / Math.Sqrt(runVar[ch] + 1e-5) + beta[ch]; }).ToArray();
        AssertClose(evalExpected, e, 1e-5);
    }

    private static float[] Draw(Generator g, int count, bool uniform = false)
    {
        using var t = uniform ? rand([count], generator: g) : randn([count], generator: g);
        return t.data<float>().ToArray();
    }

    private static void AssertClose(double[] expected, Tensor actual, double tol)
    {
        var a = actual.detach().cpu().contiguous().data<float>().ToArray();
        Assert.Equal(expected.Length, a.Length);
        for (int j = 0; j < a.Length; j++)
            Assert.True(Math.Abs(a[j] - expected[j]) <= tol * (1 + Math.Abs(expected[j])), $"entry {j}: {a[j]} vs closed form {expected[j]}");
    }
}
