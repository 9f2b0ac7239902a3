using SkiaSharp;
using Tina.Data;

namespace Tina.Tests.Data;

public class MiniImageNetTests
{
    [Fact]
    public void Has100Classes50000TrainAnd10000Test()
    {
        var ds = SharedDatasets.Get("mini-imagenet");
        Assert.Equal("miniimagenet", ds.Name);
        Assert.Equal(100, ds.NumClasses);
        Assert.Equal(50_000, ds.Train.Count);
        Assert.Equal(10_000, ds.Test.Count);
        Assert.All(Enumerable.Range(0, 100), c =>
        {
            Assert.Equal(500, ds.Train.Labels.Count(l => l == c));
            Assert.Equal(100, ds.Test.Labels.Count(l => l == c));
        });
    }

    [Fact]
    public void ClassNamesAreFirstLemmasInWnidOrder()
    {
        var ds = SharedDatasets.Get("miniimagenet");
        var tsv = SharedDatasets.Members(SharedDatasets.Archive(MiniImageNet.ArchiveName), p => p.EndsWith("class_names.tsv", StringComparison.Ordinal), 1);
        var map = MiniImageNet.ParseClassNames(System.Text.Encoding.UTF8.GetString(tsv.Single().Data));
        Assert.Equal(100, map.Count);
        Assert.Equal(map.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value), ds.ClassNames);
        Assert.Equal("house finch", map["n01532829"]);
        Assert.Contains("house finch", ds.ClassNames);
        Assert.DoesNotContain(ds.ClassNames, n => n.Contains('_'));
    }

    [Fact]
    public void PixelsAreTheJpegsRgbPlanes()
    {
        // These JPEGs are already 32×32, so some decoded image must equal SkiaSharp's own decode of the first train
        // JPEG in the archive exactly, plane by plane: this pins the BGR → R,G,B plane order.
        var ds = SharedDatasets.Get("miniimagenet");
        var first = SharedDatasets.Members(SharedDatasets.Archive(MiniImageNet.ArchiveName), p => p.Contains("/train/", StringComparison.Ordinal), 1).Single();
        using var bmp = SKBitmap.Decode(first.Data);
        Assert.Equal((32, 32), (bmp.Width, bmp.Height));
        var expected = new byte[3072];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
            {
                var p = bmp.GetPixel(x, y);
                expected[y * 32 + x] = p.Red;
                expected[1024 + y * 32 + x] = p.Green;
                expected[2048 + y * 32 + x] = p.Blue;
            }
        var matches = Enumerable.Range(0, ds.Train.Count).Where(i => ds.Train.Image(i).SequenceEqual(expected)).ToList();
        Assert.NotEmpty(matches);
        var wnid = first.Path.Split('/')[2];
        var names = MiniImageNet.ParseClassNames(System.Text.Encoding.UTF8.GetString(
            SharedDatasets.Members(SharedDatasets.Archive(MiniImageNet.ArchiveName), p => p.EndsWith("class_names.tsv", StringComparison.Ordinal), 1).Single().Data));
        Assert.Contains(matches, i => ds.ClassNames[ds.Train.Labels[i]] == names[wnid]);
    }
}
