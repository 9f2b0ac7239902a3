using Microsoft.ML;
using Microsoft.ML.Data;
using Tina.MLNet;
using Tina.MLNet.Errors;

namespace Tina.Tests.MLNet;

public class ResNet18BackboneTests
{
    private sealed class PixelsRow
    {
        [VectorType(3, ResNet18Backbone.ImageSize, ResNet18Backbone.ImageSize)]
        public float[] Pixels { get; set; } = [];
    }

    private sealed class FeaturesRow
    {
        public float[] Features { get; set; } = [];
    }

    /// <summary>Two real CIFAR-100 test images, upsampled to 224×224 (nearest pixel, so no resampler is involved): RGB planes 0–255.</summary>
    private static float[][] RealImages224()
    {
        var test = Fixtures.Cifar.Test;
        return [Upsample(test.Image(0)), Upsample(test.Image(1))];

        static float[] Upsample(ReadOnlySpan<byte> chw32)
        {
            const int s = ResNet18Backbone.ImageSize;
            var x = new float[3 * s * s];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < s; y++)
                    for (int i = 0; i < s; i++)
                        x[(c * s + y) * s + i] = chw32[(c * 32 + y * 32 / s) * 32 + i * 32 / s];
            return x;
        }
    }

    [Fact]
    public void BatchedFoldedGraphGivesTheFeaturesOfMLNetsDnnFeaturizeImage()
    {
        var images = RealImages224();
        var ml = new MLContext(seed: 0);
        var data = ml.Data.LoadFromEnumerable(images.Select(p => new PixelsRow { Pixels = p }));
        var featurizer = ml.Transforms.DnnFeaturizeImage("Features", m => m.ModelSelector.ResNet18(ml, m.OutputColumn, m.InputColumn), "Pixels")
            .Fit(data);
        var expected = ml.Data.CreateEnumerable<FeaturesRow>(featurizer.Transform(data), reuseRowObject: false).Select(r => r.Features).ToArray();

        using var extractor = new BackboneFeatureExtractor(ResNet18Backbone.Load(), ResNet18Backbone.ImageSize);
        var batch = images.SelectMany(p => p.Select(v => v / 255f)).ToArray();
        var actual = extractor.Run(batch, images.Length);

        Assert.Equal(ResNet18Backbone.FeatureDim, expected[0].Length);
        for (int n = 0; n < images.Length; n++)
        {
            var e = expected[n];
            var a = actual.AsSpan(n * ResNet18Backbone.FeatureDim, ResNet18Backbone.FeatureDim);
            double maxErr = 0, norm = Math.Sqrt(e.Sum(v => (double)v * v));
            for (int k = 0; k < e.Length; k++) maxErr = Math.Max(maxErr, Math.Abs(e[k] - a[k]));
            Assert.True(norm > 1, $"image {n}: features of norm {norm} look empty");
            Assert.True(maxErr < 1e-4 * norm, $"image {n}: max difference {maxErr} against ML.NET's features (norm {norm})");
        }
        // Different images give different features (the comparison above is not between two constant outputs).
        Assert.True(Math.Abs(expected[0][0] - expected[1][0]) + Math.Abs(expected[0][1] - expected[1][1]) > 1e-3);
    }

    [Fact]
    public void ThumbnailsAreResizedInsideTheGraphLikeTheSameImagesGivenAt224()
    {
        using var small = new BackboneFeatureExtractor(ResNet18Backbone.Load(), 32);
        var test = Fixtures.Cifar.Test;
        var x = new float[2 * 3072];
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 3072; p++) x[n * 3072 + p] = test.Image(n)[p] / 255f;
        var f = small.Run(x, 2);
        Assert.Equal(2 * ResNet18Backbone.FeatureDim, f.Length);
        Assert.All(f, v => Assert.True(float.IsFinite(v) && v >= 0)); // after ReLU and average pooling
        Assert.Throws<ArgumentException>(() => small.Run(x, 3));
    }

    [Fact]
    public void AMissingOrCorruptBackboneFileIsOneClearError()
    {
        var empty = TestData.TempDir();
        var missing = Assert.Throws<TinaFileNotFoundException>(() => ResNet18Backbone.Load(empty));
        Assert.Contains(ResNet18Backbone.PackageId, missing.Message);
        Assert.Contains("ResNet18.onnx", missing.FilePath);

        var corrupt = TestData.TempDir();
        foreach (var sub in new[] { "ResNet18Onnx", "ResNetPrepOnnx" }) Directory.CreateDirectory(Path.Combine(corrupt, sub));
        File.Copy(Path.Combine(ResNet18Backbone.DefaultDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), Path.Combine(corrupt, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
        File.WriteAllBytes(Path.Combine(corrupt, "ResNet18Onnx", "ResNet18.onnx"), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var bad = Assert.Throws<CorruptFileException>(() => ResNet18Backbone.Load(corrupt));
        Assert.Contains("ResNet18.onnx", bad.FilePath);
    }
}
