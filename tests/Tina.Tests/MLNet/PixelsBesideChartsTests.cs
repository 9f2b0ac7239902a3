using System.Runtime.InteropServices;
using Tina.Tests.Child;
using Xunit.Abstractions;

namespace Tina.Tests.MLNet;

/// <summary>
/// The condition for drawing charts in the <c>tina</c> process: ScottPlot 5 and ML.NET 6's image transforms load the
/// same SkiaSharp, and ML.NET's <c>ExtractPixels</c> must give the same values, bit for bit, whether or not a chart
/// was drawn in the process first. Each check runs in a fresh process (<see cref="PixelProbe"/>), so the reference is
/// computed before anything has touched ScottPlot.
/// </summary>
public class PixelsBesideChartsTests(ITestOutputHelper output)
{
    [Fact]
    public void ExtractPixelsGivesTheSameBitsBeforeAndAfterAChartIsDrawnInTheProcess()
    {
        var root = TestData.TempDir();
        var images = Path.Combine(root, "images");
        Directory.CreateDirectory(images);
        var raw = PixelProbe.WriteImages(images);
        var files = PixelProbe.Images(images);
        Assert.Equal(raw.Length + 3, files.Length);   // CIFAR PNGs + the Caltech JPEG + a large JPEG + a large PNG

        string Probe(string order)
        {
            var dir = Path.Combine(root, order);
            Directory.CreateDirectory(dir);
            foreach (var f in files) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            var (code, text, _, timedOut) = ChildProgram.Run(TimeSpan.FromMinutes(5), "pixels", dir, order);
            output.WriteLine($"{order}: {text.Trim()}");
            Assert.False(timedOut, text);
            Assert.True(code == 0, text);
            Assert.True(File.Exists(Path.Combine(dir, "loss.png.chart")) == (order != "no-chart"), text);
            return dir;
        }
        float[] Values(string dir, int index)
        {
            var values = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, $"pixels-{index}.bin"))).ToArray();
            Assert.Equal(files.Length * PixelProbe.ValuesPerImage, values.Length);
            return values;
        }

        var pixelsFirst = Probe("pixels-first");
        var before = Values(pixelsFirst, 0);                 // a fresh process, ScottPlot not loaded (the probe checks)
        var after = Values(pixelsFirst, 1);                  // the same process, after drawing a chart
        var chartFirst = Values(Probe("chart-first"), 0);    // a process that drew the chart before ML.NET decoded anything
        var noChart = Values(Probe("no-chart"), 0);          // a process that never loads ScottPlot

        // The reference itself is right: a 32×32 CIFAR PNG through LoadImages → ResizeImages 32 → ExtractPixels gives
        // exactly its bytes (PNG is lossless; no resampling at the same size).
        for (int i = 0; i < raw.Length; i++)
        {
            int at = Array.FindIndex(files, f => Path.GetFileName(f) == $"cifar-{i:D2}.png");
            var planes = before.AsSpan(at * PixelProbe.ValuesPerImage, 3 * 32 * 32).ToArray();
            Assert.Equal(raw[i].Select(b => (float)b).ToArray(), planes);
        }
        // Every image's values vary (no constant image, which any decoder would get right).
        for (int i = 0; i < files.Length; i++)
            Assert.True(before.AsSpan(i * PixelProbe.ValuesPerImage, PixelProbe.ValuesPerImage).ToArray().Distinct().Count() > 50, files[i]);

        AssertSameBits(before, after, files, "after a chart was drawn in the same process");
        AssertSameBits(before, chartFirst, files, "in a process that drew a chart first");
        AssertSameBits(before, noChart, files, "in a process that never loaded ScottPlot");
    }

    private static void AssertSameBits(float[] expected, float[] actual, string[] files, string when)
    {
        Assert.Equal(expected.Length, actual.Length);
        var a = MemoryMarshal.Cast<float, int>(expected);
        var b = MemoryMarshal.Cast<float, int>(actual);
        int differing = 0, first = -1;
        for (int i = 0; i < a.Length; i++)
            if (a[i] != b[i]) { differing++; if (first < 0) first = i; }
        if (differing > 0)   // the message indexes the first difference, so it is only built when there is one
            Assert.Fail($"{differing} of {a.Length} values differ {when}; the first in {Path.GetFileName(files[first / PixelProbe.ValuesPerImage])}: {expected[first]} vs {actual[first]}");
    }
}
