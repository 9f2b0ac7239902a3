using Tina.Data;
using Tina.Features;
using Tina.MLNet;
using static TorchSharp.torch;

namespace Tina.Tests.Features;

public class BackboneFeaturesTests
{
    /// <summary>Twelve real CIFAR-100 test images (a set of its own, so its key is new to the cache).</summary>
    private static ImageSet Images(int offset) => Fixtures.Cifar.Test.Subset(Enumerable.Range(offset, 12).ToArray());

    [Fact]
    public void AComputationKilledMidwayResumesFromItsChunksAndGivesTheSameFeatures()
    {
        var cache = TestData.TempDir();
        var service = new BackboneFeatures { CacheDirectory = cache };
        var set = new ImageSet(Images(100).Pixels, Images(100).Labels); // no parent: computed, not cut
        using var first = service.Of(set);
        Assert.Equal(new long[] { 12, ResNet18Backbone.FeatureDim }, first.shape);
        var files = Directory.GetFiles(cache, "*.safetensors", SearchOption.AllDirectories);
        Assert.Single(files);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(files[0])!)); // the chunk folder is gone once complete

        // A second process (a new service) reads the file instead of running the backbone.
        var reader = new BackboneFeatures { CacheDirectory = cache, Progress = new Fail() };
        using var again = reader.Of(new ImageSet(set.Pixels, set.Labels));
        Assert.Equal(first.data<float>().ToArray(), again.data<float>().ToArray());

        // A killed run left only chunk files: a new run reads them (no backbone call for them) and finishes the file.
        var final = files[0];
        var parts = final + ".parts";
        Directory.CreateDirectory(parts);
        File.Move(final, Path.Combine(parts, "00000.safetensors"));
        var resumed = new BackboneFeatures { CacheDirectory = cache, Progress = new Recorder() };
        using var fromParts = resumed.Of(new ImageSet(set.Pixels, set.Labels));
        Assert.Equal(first.data<float>().ToArray(), fromParts.data<float>().ToArray());
        Assert.Equal(0, ((Recorder)resumed.Progress).LastRate);
        Assert.True(File.Exists(final));
    }

    [Fact]
    public void ASubsetTakesItsRowsFromItsParentsFeatures()
    {
        var service = new BackboneFeatures();
        var parent = new ImageSet(Images(200).Pixels, Images(200).Labels);
        using var all = service.Of(parent);
        var sub = parent.Subset([3, 7, 1]);
        using var rows = service.Of(sub);
        using var expected = all.index_select(0, tensor(new long[] { 3, 7, 1 }));
        Assert.Equal(expected.data<float>().ToArray(), rows.data<float>().ToArray());
        // Computed alone (no parent features yet), the same images give the same features up to batch rounding.
        using var alone = new BackboneFeatures().Of(parent.Subset([3, 7, 1]));
        Assert.True(alone.allclose(expected, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void AugmentedViewsAreSeededAndDifferFromThePlainImages()
    {
        var service = new BackboneFeatures();
        var set = new ImageSet(Images(300).Pixels, Images(300).Labels);
        using var plain = service.Of(set);
        using var view = new BackboneFeatures().Of(set, view: 0);
        using var same = new BackboneFeatures().Of(set, view: 0);
        using var other = new BackboneFeatures().Of(set, view: 1);
        Assert.Equal(view.data<float>().ToArray(), same.data<float>().ToArray());
        Assert.False(view.allclose(plain, atol: 1e-3));
        Assert.False(view.allclose(other, atol: 1e-3));
    }

    private sealed class Fail : IProgress<FeatureProgress>
    {
        public void Report(FeatureProgress value) => throw new InvalidOperationException("the backbone ran although the features were cached");
    }

    private sealed class Recorder : IProgress<FeatureProgress>
    {
        public double LastRate { get; private set; } = -1;
        public void Report(FeatureProgress value) => LastRate = value.ImagesPerSecond;
    }
}
