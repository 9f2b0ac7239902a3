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
        using var x = randn(4, 3, 5, 5);
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
        Assert.True(f.eq(1f).all().item<bool>(), "f changed: an arithmetic call read a wrong Scalar");
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
    public void BatchNormMatchesTorchSharpBatchNorm2d()
    {
        torch.manual_seed(3);
        using var ours = new BatchNormalization(6);
        using var reference = nn.BatchNorm2d(6);
        Assert.Equal(
            reference.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32).Select(kv => kv.Key).Order(),
            ours.state_dict().Select(kv => kv.Key).Order());
        using (no_grad())
        {
            using var w = rand(6); using var b = randn(6);
            ours.Weight.copy_(w); reference.weight!.copy_(w);
            ours.Bias.copy_(b); reference.bias!.copy_(b);
        }
        ours.train(); reference.train();
        for (int i = 0; i < 3; i++)
        {
            using var x = randn(8, 6, 4, 4) * 3f;
            using var y1 = ours.forward(x);
            using var y2 = reference.forward(x);
            Assert.True(y1.allclose(y2, 1e-5, 1e-5));
        }
        Assert.True(ours.RunningMean.allclose(reference.running_mean!, 1e-6, 1e-6));
        Assert.True(ours.RunningVar.allclose(reference.running_var!, 1e-6, 1e-6));
        ours.eval(); reference.eval();
        using var z = randn(2, 6, 4, 4);
        using var e1 = ours.forward(z);
        using var e2 = reference.forward(z);
        Assert.True(e1.allclose(e2, 1e-5, 1e-5));
    }
}
