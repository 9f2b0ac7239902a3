using Tina.Benchmarks;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation.Benchmarks;

namespace Tina.Tests.Benchmarks;

/// <summary>The measurement loops behind <c>tina bench</c>, called as a library.</summary>
public class BenchmarkTests
{
    [Fact]
    public void PercentileIsTheNearestRank()
    {
        double[] values = [5, 1, 4, 2, 3];
        Assert.Equal(3, GenerationBenchmark.Percentile(values, 0.5));
        Assert.Equal(5, GenerationBenchmark.Percentile(values, 0.9));
        Assert.Equal(1, GenerationBenchmark.Percentile(values, 0));
        Assert.Equal(7, GenerationBenchmark.Percentile([7.0], 0.9));
        Assert.Throws<ArgumentException>(() => GenerationBenchmark.Percentile([], 0.5));
    }

    [Fact]
    public void FeatureBenchmarkReturnsOneRowPerInputSizeWithItsFloorAndAccuracy()
    {
        var result = FeatureBenchmark.Run(ResNet18Backbone.Load(), Fixtures.Cifar,
            new FeatureBenchmarkOptions { Images = 8, Sizes = [32, 64], Accuracy = true, TrainPerClass = 1, ValidationPerClass = 1, Threads = 2 });
        Assert.Equal([32, 64], result.Rows.Select(r => r.InputSize));
        Assert.Equal((100, 100), (result.TrainImages, result.ValidationImages));
        Assert.True(result.MatmulFlops > 0 && result.BackboneFlops > 0);
        foreach (var row in result.Rows)
        {
            Assert.Equal(result.BackboneFlops * row.InputSize * row.InputSize / (224.0 * 224.0), row.FlopsPerImage, 6);
            Assert.Equal(result.MatmulFlops / row.FlopsPerImage, row.FloorImagesPerSecond, 6);
            Assert.True(row.ImagesPerSecond > 0);
            Assert.Equal(row.FloorImagesPerSecond / row.ImagesPerSecond, row.TimesFloor, 9);
            Assert.InRange(row.ValidationTop1!.Value, 0, 100);
            Assert.InRange(row.ValidationPAcc!.Value, 0, 100);
        }
    }

    [Fact]
    public void FeatureBenchmarkWithoutAccuracyLeavesItsColumnsEmpty()
    {
        var result = FeatureBenchmark.Run(ResNet18Backbone.Load(), Fixtures.Cifar, new FeatureBenchmarkOptions { Images = 4, Sizes = [32], Threads = 1 });
        var row = Assert.Single(result.Rows);
        Assert.Null(row.ValidationTop1);
        Assert.Null(row.ValidationPAcc);
        Assert.Equal((0, 0), (result.TrainImages, result.ValidationImages));
        Assert.Throws<TinaException>(() => FeatureBenchmark.Run(ResNet18Backbone.Load(), Fixtures.Cifar, new FeatureBenchmarkOptions { Images = 0 }));
    }
}
