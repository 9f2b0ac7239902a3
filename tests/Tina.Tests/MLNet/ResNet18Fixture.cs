using SkiaSharp;
using Tina.Data;
using Tina.Features;
using Tina.Generic;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Tests.MLNet;

/// <summary>
/// A resnet18 generic head trained on the features of ten CIFAR-100 classes (30 training images each), a
/// classifier-selection p-Model for three of them, and real photos of many sizes and aspect ratios as files: Caltech-101
/// JPEGs as they are in the archive (odd aspect ratios, ≤ 64 px) and CIFAR-100 / Caltech-101 images enlarged to
/// ordinary photo sizes (JPEG and PNG, landscape, portrait, square). Built once per test run; the backbone features are
/// cached in the tests' artifacts folder.
/// </summary>
internal sealed class ResNet18Fixture
{
    private static readonly Lazy<ResNet18Fixture> _instance = new(() => new ResNet18Fixture());

    /// <summary>The shared instance.</summary>
    public static ResNet18Fixture Instance => _instance.Value;

    /// <summary>Points the process's ResNet-18 feature service at the tests' cache (idempotent).</summary>
    public static void UseTestCache() =>
        BackboneFeatures.ResNet18.CacheDirectory ??= Path.Combine(TestData.ArtifactsDir, "features");

    private ResNet18Fixture()
    {
        UseTestCache();
        Data = Fixtures.CifarSubset(classes: 10, perClass: 30, testPerClass: 10);
        var dir = TestData.TempDir();
        Generic = new GenericTrainer(new GenericTrainingOptions { Arch = PModelArch.ResNet18, Epochs = 30, BatchSize = 32, Seed = 3 }, dir).Train(Data);
        Task = PersonalizationTask.FromNames(Data, ["apple", "bicycle", "bear"], 10);
        Model = ClassifierSelection.Create(Generic, Task);
        ImageDir = TestData.TempDir();
        Files = WritePhotos(ImageDir);
    }

    /// <summary>The ten-class subset the generic head was trained on.</summary>
    public ImageDataset Data { get; }

    /// <summary>The generic resnet18 head.</summary>
    public GenericModel Generic { get; }

    /// <summary>The task apple, bicycle, bear.</summary>
    public PersonalizationTask Task { get; }

    /// <summary>Its classifier-selection p-Model.</summary>
    public PModel Model { get; }

    /// <summary>Folder of the photo files.</summary>
    public string ImageDir { get; }

    /// <summary>The photo files (full paths) with their pixel sizes.</summary>
    public IReadOnlyList<(string Path, int Width, int Height)> Files { get; }

    private static List<(string, int, int)> WritePhotos(string dir)
    {
        var files = new List<(string, int, int)>();
        // Caltech-101 photos as they are (JPEG, their own sizes and aspect ratios).
        var archive = Path.Combine(TestData.DataDir, Caltech101.ArchiveName);
        var wanted = new[] { "101_ObjectCategories/chair/image_0001.jpg", "101_ObjectCategories/elephant/image_0002.jpg", "101_ObjectCategories/sunflower/image_0003.jpg", "101_ObjectCategories/cup/image_0004.jpg" };
        using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(archive), System.IO.Compression.CompressionMode.Decompress))
        using (var tar = new System.Formats.Tar.TarReader(gz))
            while (tar.GetNextEntry() is { } entry)
            {
                if (!wanted.Contains(entry.Name) || entry.DataStream is null) continue;
                var path = Path.Combine(dir, Path.GetFileName(Path.GetDirectoryName(entry.Name)!) + ".jpg");
                using (var file = File.Create(path)) entry.DataStream.CopyTo(file);
                using var codec = SKCodec.Create(path);
                files.Add((path, codec.Info.Width, codec.Info.Height));
            }
        if (files.Count != wanted.Length) throw new InvalidOperationException($"Found {files.Count} of the {wanted.Length} Caltech-101 photos in {archive}.");
        // Real images enlarged to ordinary photo sizes: landscape JPEG, portrait PNG, square JPEG, a very wide one.
        var test = Fixtures.Cifar.Test;
        foreach (var (i, w, h, ext) in new[] { (0, 1600, 1000, ".jpg"), (1, 480, 720, ".png"), (2, 640, 640, ".jpg"), (3, 900, 300, ".png") })
        {
            using var small = new SKBitmap(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque);
            var chw = test.Image(i);
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                    small.SetPixel(x, y, new SKColor(chw[y * 32 + x], chw[1024 + y * 32 + x], chw[2048 + y * 32 + x]));
            using var big = small.Resize(new SKImageInfo(w, h), new SKSamplingOptions(SKCubicResampler.Mitchell));
            using var image = SKImage.FromBitmap(big);
            using var encoded = image.Encode(ext == ".jpg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png, 90);
            var path = Path.Combine(dir, $"cifar{i}_{w}x{h}{ext}");
            File.WriteAllBytes(path, encoded.ToArray());
            files.Add((path, w, h));
        }
        return files;
    }
}
