using System.Diagnostics;
using System.Globalization;
using Tina.MLNet;
using Tina.Tests.MLNet;

namespace Tina.Tests.Cli;

/// <summary><c>tina predict</c> through the real executable: large photos are classified, a decompression bomb is one red line and exit code 2.</summary>
public class PredictCommandTests
{
    [Fact]
    public void LargePhotosAreClassifiedAndABombIsRefusedFastWithOneLine()
    {
        var f = ThreeClassFixture.Instance;
        var dir = TestData.TempDir();
        var model = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(model, f.Onnx);
        var apple = TestPhotos.Cifar("apple");
        var photos = new[] { ("big.jpg", TestPhotos.Upscaled(apple, 3000, 2000)), ("tall.jpg", TestPhotos.Upscaled(apple, 700, 2800, seed: 3)) }
            .Select(p => { var path = Path.Combine(dir, p.Item1); File.WriteAllBytes(path, p.Item2); return path; }).ToArray();

        var (code, output) = TinaProcess.Run(dir, "predict", "--model", model, "--image", photos[0], photos[1]);
        Assert.True(code == 0, output);
        using var predictor = TinaPredictor.FromOnnx(f.Onnx);
        foreach (var photo in photos)
        {
            var p = predictor.Predict(photo);
            var row = output.Split('\n').Single(l => l.Contains(Path.GetFileName(photo), StringComparison.Ordinal));
            Assert.Contains(p.Label, row);
            Assert.Contains(p.Score.ToString("F3", CultureInfo.InvariantCulture), row);
        }

        // A 30,000 × 30,000 PNG of a few hundred bytes: main spent 15 s and 3.75 GB decoding a 20,000² one.
        var bomb = Path.Combine(dir, "bomb.png");
        File.WriteAllBytes(bomb, TestPhotos.PngBomb(30000, 30000));
        var watch = Stopwatch.StartNew();
        (code, output) = TinaProcess.Run(dir, "predict", "--model", model, "--image", bomb);
        watch.Stop();
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(bomb, line);
        Assert.Contains("30000×30000 pixels", line);
        Assert.Contains("over the limit of 40 megapixels", line);
        Assert.DoesNotContain("   at ", output);
        // The whole process (start-up and model load included) on a busy 2-core machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"tina predict took {watch.Elapsed} to refuse the bomb");
    }
}
