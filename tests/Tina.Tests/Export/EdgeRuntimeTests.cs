using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Tina.MLNet.Generation.Export;
using Tina.Tests.MLNet;
using static Tina.Tests.Export.OnnxTestSupport;

namespace Tina.Tests.Export;

/// <summary>
/// The one-file resnet18 classifier in the runtime an edge or desktop (Electron) app would use: onnxruntime-node 1.30,
/// installed into tests/node by scripts/setup.sh. Its scores must equal ONNX Runtime's in .NET on the same pixels.
/// </summary>
public class EdgeRuntimeTests
{
    [Fact]
    public async Task OneFileResNet18ClassifierGivesTheSameScoresInOnnxRuntimeNode()
    {
        var node = Path.Combine(TestData.RepoRoot, "tests", "node");
        Assert.True(Directory.Exists(Path.Combine(node, "node_modules", "onnxruntime-node")),
            $"onnxruntime-node is not installed in {node}: run scripts/setup.sh (npm ci --prefix tests/node).");
        var f = ResNet18Fixture.Instance;
        var work = TestData.TempDir();
        var model = Path.Combine(work, "classifier.onnx");
        File.WriteAllBytes(model, OnnxExporter.Export(f.Model, f.Task.Prompt, "classifier-selection"));
        CheckWithOnnxChecker(model);

        // Three real CIFAR-100 test images, enlarged to 224×224 (nearest pixel): RGB planes in [0, 1].
        const int n = 3, s = 224;
        var pixels = new float[n * 3 * s * s];
        for (int i = 0; i < n; i++)
        {
            var chw = Fixtures.Cifar.Test.Image(i);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < s; y++)
                    for (int x = 0; x < s; x++)
                        pixels[((i * 3 + c) * s + y) * s + x] = chw[(c * 32 + y * 32 / s) * 32 + x * 32 / s] / 255f;
        }
        var input = Path.Combine(work, "pixels.f32");
        File.WriteAllBytes(input, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());

        var psi = new ProcessStartInfo("node") { WorkingDirectory = node, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "classify.mjs", model, input, $"{n}", $"{s}" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
            await p.WaitForExitAsync(timeout.Token);
        Assert.True(p.ExitCode == 0, $"node classify.mjs failed: {await stderr}");
        using var json = JsonDocument.Parse(await stdout);
        var nodeScores = json.RootElement.GetProperty("scores").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var nodeIndex = json.RootElement.GetProperty("classIndex").EnumerateArray().Select(v => v.GetInt64()).ToArray();

        using var session = new InferenceSession(model);
        var (scores, index) = RunOnnx(session, pixels, n, s);
        Assert.Equal(index, nodeIndex);
        Assert.Equal(scores.Length, nodeScores.Length);
        double max = scores.Zip(nodeScores, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(max < 1e-4, $"onnxruntime-node differs from ONNX Runtime in .NET by {max:E2}");
        Assert.True(scores.Distinct().Count() > n, "the scores look constant");
    }
}
