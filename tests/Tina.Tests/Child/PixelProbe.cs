using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace Tina.Tests.Child;

/// <summary>
/// ML.NET's pixel path (LoadImages → ResizeImages → ExtractPixels, with the settings of Tina's chain) run over image
/// files in a fresh process, before and after a ScottPlot chart is drawn in that process, so a test can check that
/// drawing charts in the <c>tina</c> process leaves the pixels ML.NET extracts untouched (both use SkiaSharp).
/// </summary>
internal static class PixelProbe
{
    /// <summary>The sizes every image is resized to: the CIFAR networks' input and ResNet-18's.</summary>
    public static readonly int[] Sizes = [32, 224];

    /// <summary>The float values one image contributes to a probe file: an RGB plane set per size, in <see cref="Sizes"/> order.</summary>
    public static int ValuesPerImage => Sizes.Sum(s => 3 * s * s);

    /// <summary>The image files of <paramref name="dir"/> the probe reads, in the order it writes their values.</summary>
    public static string[] Images(string dir) => Directory.GetFiles(dir)
        .Where(f => f.EndsWith(".png", StringComparison.Ordinal) || f.EndsWith(".jpg", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal).ToArray();

    /// <summary>
    /// <paramref name="order"/>: <c>pixels-first</c> extracts (pixels-0.bin), draws a chart, extracts again
    /// (pixels-1.bin); <c>chart-first</c> draws the chart, then extracts (pixels-0.bin); <c>no-chart</c> only extracts.
    /// Prints one line per file with its SHA-256 and which assemblies were loaded when it was made.
    /// </summary>
    public static int Run(string dir, string order)
    {
        var images = Images(dir);
        if (images.Length == 0) throw new InvalidOperationException($"no .png or .jpg files in {dir}");
        if (order == "chart-first") DrawChart(dir);
        Write(dir, 0, images);
        if (order == "pixels-first")
        {
            DrawChart(dir);
            Write(dir, 1, images);
        }
        return 0;
    }

    private static void Write(string dir, int index, string[] images)
    {
        var values = Extract(images);
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        File.WriteAllBytes(Path.Combine(dir, $"pixels-{index}.bin"), bytes);
        var skia = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "SkiaSharp")?.GetName().Version;
        Console.WriteLine($"pixels-{index}.bin sha256 {Convert.ToHexString(SHA256.HashData(bytes))} scottplot-loaded {Loaded("ScottPlot")} skiasharp {skia}");
    }

    /// <summary>
    /// Writes the probe's images into <paramref name="dir"/>: twelve real CIFAR-100 test images as PNG (cifar-NN.png;
    /// returns their CHW bytes in file order), the first photo of the Caltech-101 archive (a real camera JPEG) and
    /// two larger images made from a CIFAR-100 photo (a 1200×800 JPEG and a 640×960 PNG).
    /// </summary>
    public static byte[][] WriteImages(string dir)
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 1);
        var raw = new byte[data.Test.Count][];
        for (int i = 0; i < data.Test.Count; i++)
        {
            raw[i] = data.Test.Image(i).ToArray();
            Tina.Data.PngWriter.Write(Path.Combine(dir, $"cifar-{i:D2}.png"), raw[i]);
        }
        File.WriteAllBytes(Path.Combine(dir, "caltech-photo.jpg"), FirstCaltechJpeg());
        File.WriteAllBytes(Path.Combine(dir, "large-photo.jpg"), MLNet.TestPhotos.Upscaled(raw[3], 1200, 800));
        File.WriteAllBytes(Path.Combine(dir, "large-portrait.png"), MLNet.TestPhotos.Upscaled(raw[5], 640, 960, SkiaSharp.SKEncodedImageFormat.Png, seed: 2));
        return raw;
    }

    private static byte[] FirstCaltechJpeg()
    {
        var archive = Path.Combine(TestData.DataDir, "101_ObjectCategories.tar.gz");
        using var gz = new System.IO.Compression.GZipStream(File.OpenRead(archive), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        while (tar.GetNextEntry() is { } entry)
            if (entry.Name.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) && entry.DataStream is { } stream)
            {
                var bytes = new byte[entry.Length];
                stream.ReadExactly(bytes);
                return bytes;
            }
        throw new InvalidDataException($"no JPEG in {archive}");
    }

    /// <summary>Whether an assembly named <paramref name="name"/> is loaded in this process.</summary>
    public static bool Loaded(string name) => AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == name);

    private static void DrawChart(string dir)
    {
        if (Loaded("ScottPlot")) throw new InvalidOperationException("ScottPlot was loaded before the chart was drawn");
        var csv = Path.Combine(dir, "loss.csv");
        File.WriteAllText(csv, "epoch,loss\n1,0.5\n2,0.2\n3,0.1\n4,0.08\n");
        Tina.Cli.Console.Charts.Loss([csv], [], Path.Combine(dir, "loss.png.chart"));
        if (!Loaded("ScottPlot")) throw new InvalidOperationException("drawing the chart did not load ScottPlot");
    }

    private sealed class PathRow
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class PixelRow
    {
        [ColumnName("Pixels")]
        public float[] Pixels { get; set; } = [];
    }

    /// <summary>Every image's pixels at each of <see cref="Sizes"/>, through a fresh ML.NET chain per size.</summary>
    public static float[] Extract(string[] images)
    {
        var ml = new MLContext(seed: 0);
        var perSize = new List<float[][]>();
        foreach (var size in Sizes)
        {
            var data = ml.Data.LoadFromEnumerable(images.Select(p => new PathRow { ImagePath = p }));
            // Tina's chain: resize keeping the aspect ratio (crop the centre), RGB planes; 0–255 here (scale 1), so
            // that the values of a 32×32 PNG are its bytes.
            var chain = ml.Transforms.LoadImages("Image", null, nameof(PathRow.ImagePath))
                .Append(ml.Transforms.ResizeImages("Resized", size, size, "Image", TinaCatalog.Defaults.Resizing))
                .Append(ml.Transforms.ExtractPixels("Pixels", "Resized", ImagePixelExtractingEstimator.ColorBits.Rgb,
                    ImagePixelExtractingEstimator.ColorsOrder.ARGB, interleavePixelColors: false, offsetImage: 0f, scaleImage: 1f, outputAsFloatArray: true));
            var rows = ml.Data.CreateEnumerable<PixelRow>(chain.Fit(data).Transform(data), reuseRowObject: false).Select(r => r.Pixels).ToArray();
            if (rows.Length != images.Length || rows.Any(r => r.Length != 3 * size * size))
                throw new InvalidOperationException($"expected {images.Length} rows of {3 * size * size} values at {size} px");
            perSize.Add(rows);
        }
        var all = new List<float>(images.Length * ValuesPerImage);
        for (int i = 0; i < images.Length; i++)
            foreach (var rows in perSize) all.AddRange(rows[i]);
        return all.ToArray();
    }
}
