using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Tina.Data;
using Tina.MLNet.Export;
using Tina.PModels;
using Tina.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Tina.Tests.Export;

/// <summary>Shared pieces of the ONNX and ML.NET tests: seeded p-Models, reference outputs, ONNX Runtime, onnx.checker.</summary>
internal static class OnnxTestSupport
{
    /// <summary>
    /// A p-Model with seeded random weights, labelled with the first CIFAR-100 class names. For ResNet-20 the batch
    /// norms get realistic running statistics (one train-mode pass over real images with momentum 1) and then
    /// random γ, β and a perturbed mean/variance, so that folding them into the convolutions is really exercised.
    /// The head is then rescaled so that logits spread over a few units across images: predictions vary from image
    /// to image and the softmax is not saturated, which keeps the comparisons meaningful.
    /// </summary>
    public static PModel RandomPModel(PModelArch arch, int classes, int seed)
    {
        using var net = PModelNetwork.Create(arch, classes, seed);
        // Everything random below comes from this generator, never from torch's global one (tests run in parallel);
        // the scope keeps every temporary alive until the end (see TensorMath).
        using var g = new Generator((ulong)seed + 1_000, CPU);
        using (no_grad())
        using (NewDisposeScope())
        {
            var x = Normalize(Fixtures.Cifar.Train.ToTensor(Enumerable.Range(0, 64).ToArray()));
            if (arch == PModelArch.ResNet20)
            {
                var bns = net.modules().OfType<BatchNormalization>().ToList();
                Assert.Equal(21, bns.Count); // bn1, 2 per basic block × 9, 2 projection shortcuts
                foreach (var bn in bns) bn.Momentum = 1.0;
                net.train();
                net.forward(x);
                foreach (var bn in bns)
                {
                    long c = bn.Weight.shape[0];
                    bn.Weight.copy_(rand([c], generator: g).Plus(0.5));               // γ in [0.5, 1.5)
                    bn.Bias.copy_(randn([c], generator: g).Times(0.2));              // β
                    bn.RunningMean.PlusInPlace(randn([c], generator: g), 0.1);
                    bn.RunningVar.mul_(rand([c], generator: g).Plus(0.5));
                }
            }
            net.eval();
            var f = net.Features(x);
            var mean = f.mean([0L]);
            var std = f.std(0).Plus(1e-3);
            long d = f.shape[1];
            var w = randn([classes, d], generator: g).Times(2.0 / Math.Sqrt(d)) / std;
            net.fc.weight!.copy_(w);
            net.fc.bias!.copy_(-w.matmul(mean));
        }
        var labels = Fixtures.Cifar.ClassNames.Take(classes).ToArray();
        var frozen = arch == PModelArch.ResNet20 ? StateDict.Export(net) : null;
        return new PModel(arch, labels, StateDict.Flatten(net), frozen);
    }

    /// <summary>(x − 0.5)/0.5, the p-Model input normalisation, applied in TorchSharp.</summary>
    public static Tensor Normalize(Tensor x)
    {
        using var scope = NewDisposeScope();
        var mean = tensor(Normalization.Mean).reshape(1, 3, 1, 1);
        var std = tensor(Normalization.Std).reshape(1, 3, 1, 1);
        return ((x - mean) / std).MoveToOuterDisposeScope();
    }

    /// <summary>The reference: TorchSharp logits of <paramref name="model"/> on images in [0, 1] ([n, 3, 32, 32] values).</summary>
    public static float[] TorchLogits(PModel model, float[] images, int n)
    {
        using var net = model.ToNetwork();
        using var _ = no_grad();
        using var x = tensor(images, [n, 3, 32, 32]);
        using var xn = Normalize(x);
        using var logits = net.forward(xn);
        return logits.data<float>().ToArray();
    }

    /// <summary>Row-wise softmax of [n, c] logits, computed in double.</summary>
    public static float[] Softmax(float[] logits, int c)
    {
        var r = new float[logits.Length];
        for (int i = 0; i < logits.Length / c; i++)
        {
            var row = logits.AsSpan(i * c, c);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            for (int k = 0; k < c; k++) r[i * c + k] = (float)(Math.Exp(row[k] - max) / sum);
        }
        return r;
    }

    /// <summary>Images <paramref name="indices"/> of the CIFAR-100 test split as floats in [0, 1] (CHW, image after image).</summary>
    public static float[] TestImages(IReadOnlyList<int> indices)
    {
        var x = new float[indices.Count * ImageSet.ImageBytes];
        for (int k = 0; k < indices.Count; k++)
        {
            var img = Fixtures.Cifar.Test.Image(indices[k]);
            for (int j = 0; j < img.Length; j++) x[k * ImageSet.ImageBytes + j] = img[j] / 255f;
        }
        return x;
    }

    /// <summary>Runs the exported model in ONNX Runtime on <paramref name="n"/> images; returns scores [n, C] and class indices [n].</summary>
    public static (float[] Scores, long[] ClassIndex) RunOnnx(InferenceSession session, float[] images, int n, int size = 32)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(images, [n, 3, size, size]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [TinaOnnxSchema.InputName], [input], [TinaOnnxSchema.ScoresName, TinaOnnxSchema.ClassIndexName]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<long>().ToArray());
    }

    /// <summary>Index of the largest value of row <paramref name="row"/> of a [n, c] matrix.</summary>
    public static int ArgMax(float[] m, int c, int row)
    {
        int best = 0;
        for (int k = 1; k < c; k++) if (m[row * c + k] > m[row * c + best]) best = k;
        return best;
    }

    /// <summary>
    /// Runs onnx.checker.check_model(full_check=True) from Debian's python3-onnx on <paramref name="path"/>; fails the
    /// test with the checker's message, or with installation advice when python3-onnx is missing.
    /// </summary>
    public static void CheckWithOnnxChecker(string path)
    {
        const string python = "/usr/bin/python3";
        Assert.True(File.Exists(python), "onnx.checker needs Debian's python3 with python3-onnx: apt-get install python3-onnx");
        var (probeCode, probeOut) = RunProcess(python, "-c", "import onnx; print(onnx.__version__)");
        Assert.True(probeCode == 0, $"python3-onnx is not installed (apt-get install python3-onnx): {probeOut}");
        var (code, output) = RunProcess(python, "-c",
            "import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print('ok')", path);
        Assert.True(code == 0, $"onnx.checker (onnx {probeOut.Trim()}) rejected {path}:\n{output}");
    }

    private static (int Code, string Output) RunProcess(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(); return (-1, "timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
