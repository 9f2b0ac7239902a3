using Tina.Diffusion;
using Tina.PModels;
using Tina.Runtime;
using static Tina.Tests.Diffusion.DiffusionTestUtil;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

public class ParameterNormalizerTests
{
    private static readonly ParameterLayout Layout = ParameterLayout.For(PModelArch.ResNet20, 10);

    /// <summary>A zoo where fc.weight ~ N(1, 0.5²) and fc.bias ~ N(−2, 3²).</summary>
    private static Tensor Zoo()
    {
        using var z = Randn(1, 400, Layout.Count);
        var w = z.narrow(1, 0, 640).Times(0.5).Plus(1.0);
        var b = z.narrow(1, 640, 10).Times(3.0).Plus(-2.0);
        return cat([w, b], 1);
    }

    [Fact]
    public void PerTensorZScoresEachTensor()
    {
        using var zoo = Zoo();
        var n = ParameterNormalizer.Fit(ParameterNormalization.PerTensor, Layout, zoo);
        Assert.Equal(1.0, n.TensorMeans[0], 0.02);
        Assert.Equal(-2.0, n.TensorMeans[1], 0.5);
        Assert.Equal(3.0, n.TensorStds[1], 0.3);
        using var y = n.Normalize(zoo);
        using var yw = y.narrow(1, 0, 640);
        using var yb = y.narrow(1, 640, 10);
        Assert.Equal(0.0, yw.mean().item<float>(), 1e-4);
        Assert.Equal(1.0, yw.std().item<float>(), 1e-3);
        Assert.Equal(0.0, yb.mean().item<float>(), 1e-4);
        using var back = n.Denormalize(y);
        Assert.True(back.allclose(zoo, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void GlobalScaleGivesStd0538AndNoneIsIdentity()
    {
        using var zoo = Zoo().TimesInPlace(0.05);
        var n = ParameterNormalizer.Fit(ParameterNormalization.GlobalScale, Layout, zoo);
        using var y = n.Normalize(zoo);
        using var centred = y - y.mean();
        Assert.Equal(0.538, Math.Sqrt(centred.square().sum().item<float>() / (y.numel() - 1)), 1e-4);
        var none = ParameterNormalizer.Fit(ParameterNormalization.None, Layout, zoo);
        using var same = none.Normalize(zoo);
        Assert.True(same.equal(zoo).all().item<bool>());
    }

    [Fact]
    public void PaddingIsIgnoredByTheFitAndStaysZero()
    {
        var padding = new SequencePadding(PModelArch.ResNet20);
        using var mask = padding.MaskTensor(Enumerable.Repeat(3, 400).ToArray());
        using var zoo = Zoo() * mask;
        var n = ParameterNormalizer.Fit(ParameterNormalization.PerTensor, Layout, zoo, mask);
        Assert.Equal(1.0, n.TensorMeans[0], 0.05);     // not pulled towards 0 by the zero rows
        using var y = n.Normalize(zoo, mask);
        Assert.Equal(0f, (y * mask.SubtractFrom(1.0)).abs().max().item<float>());
        using var back = n.Denormalize(y, mask);
        Assert.True(back.allclose(zoo, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void JsonRoundTripAndCorruptFiles()
    {
        using var zoo = Zoo();
        var n = ParameterNormalizer.Fit(ParameterNormalization.PerTensor, Layout, zoo);
        var dir = Directory.CreateTempSubdirectory("tina-norm-");
        try
        {
            var path = Path.Combine(dir.FullName, "normalizer.json");
            n.Save(path);
            var m = ParameterNormalizer.Load(path);
            Assert.Equal(n.Kind, m.Kind);
            Assert.Equal(n.TensorMeans, m.TensorMeans);
            Assert.Equal(n.TensorStds, m.TensorStds);
            using var a = n.Normalize(zoo);
            using var b = m.Normalize(zoo);
            Assert.True(a.equal(b).all().item<bool>());
            File.WriteAllText(path, "{\"format\":\"something else\"}");
            Assert.Throws<CorruptFileException>(() => ParameterNormalizer.Load(path));
            Assert.Throws<TinaFileNotFoundException>(() => ParameterNormalizer.Load(Path.Combine(dir.FullName, "missing.json")));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void CenterSubtractsTheMeanModelWithOneSharedClassifierRow()
    {
        // CNN-5K-like zoo: convolutions large and nearly constant across p-Models, classifier rows varying.
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 4);
        var fc = layout["fc.weight"];
        var bias = layout["fc.bias"];
        using var noise = Randn(3, 300, layout.Count);
        using var constant = Randn(4, 1, layout.Count).TimesInPlace(2.0);
        var gain = Enumerable.Range(0, layout.Count).Select(j => j < fc.Offset ? 0.01f : 1f).ToArray();
        using var zoo = constant.Plus(noise * tensor(gain));
        var n = ParameterNormalizer.Fit(ParameterNormalization.Center, layout, zoo);
        Assert.NotNull(n.Center);
        var c = n.Center!;
        // Convolutions: each its own mean; classifier: one mean row for every row, one mean for every bias.
        using var convMean = zoo.narrow(1, 0, fc.Offset).mean([0L]);
        Assert.True(tensor(c.Take(fc.Offset).ToArray(), ScalarType.Float32).allclose(convMean, atol: 1e-5));
        for (int r = 1; r < 4; r++)
            Assert.Equal(c.Skip(fc.Offset).Take(32), c.Skip(fc.Offset + r * 32).Take(32));
        Assert.Equal(c[bias.Offset], c[bias.Offset + 3]);
        using var y = n.Normalize(zoo);
        using var yConv = y.narrow(1, 0, fc.Offset);
        Assert.True(yConv.abs().max().item<float>() < 0.1f); // only the small differences between p-Models are left
        // Permuting classes commutes with centering (classifier augmentation runs on normalised vectors).
        AssertPermutingCommutesAndRoundTrips(n, layout, zoo, y, row: 0, [2, 0, 3, 1], tolerance: 1e-5);
    }

    /// <summary>
    /// Permuting the classes of p-Model <paramref name="row"/> then normalising equals normalising then permuting
    /// (classifier augmentation runs on normalised vectors), and denormalising <paramref name="y"/> gives the zoo back.
    /// </summary>
    private static void AssertPermutingCommutesAndRoundTrips(ParameterNormalizer n, ParameterLayout layout, Tensor zoo, Tensor y, int row, int[] perm, double tolerance)
    {
        var v = zoo[row].data<float>().ToArray();
        using var permutedThenNormalised = n.Normalize(tensor(ClassifierAugmentation.Permute(v, layout, perm)).unsqueeze(0));
        using var normalisedThenPermuted = tensor(ClassifierAugmentation.Permute(y[row].data<float>().ToArray(), layout, perm)).unsqueeze(0);
        Assert.True(permutedThenNormalised.allclose(normalisedThenPermuted, atol: tolerance));
        using var back = n.Denormalize(y);
        Assert.True(back.allclose(zoo, rtol: tolerance, atol: 1e-5));
    }

    [Theory]
    [InlineData(ParameterNormalization.Center, "center")]
    [InlineData(ParameterNormalization.Standardize, "center")]
    [InlineData(ParameterNormalization.Standardize, "spread")]
    public void PerParameterStatisticsSurviveJsonAndAMissingOneIsRefused(ParameterNormalization kind, string field)
    {
        using var zoo = Zoo();
        var n = ParameterNormalizer.Fit(kind, Layout, zoo);
        var m = ParameterNormalizer.FromJson(n.ToJson());
        Assert.Equal(kind, m.Kind);
        Assert.Equal(n.Center, m.Center);
        Assert.Equal(n.Spread, m.Spread);
        var broken = System.Text.Json.Nodes.JsonNode.Parse(n.ToJson())!.AsObject();
        broken.Remove(field);
        Assert.Contains($"'{field}'", Assert.Throws<CorruptFileException>(() => ParameterNormalizer.FromJson(broken.ToJsonString())).Message);
    }

    [Fact]
    public void StandardizeGivesEveryNumberUnitSpreadAndCommutesWithClassPermutation()
    {
        // Convolutions nearly constant, each with its own small spread; classifier rows varying a lot.
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 4);
        var fc = layout["fc.weight"];
        using var noise = Randn(5, 400, layout.Count);
        using var constant = Randn(6, 1, layout.Count).TimesInPlace(2.0);
        var gain = Enumerable.Range(0, layout.Count).Select(j => j < fc.Offset ? 0.001f * (1 + j % 7) : 1f).ToArray();
        using var zoo = constant.Plus(noise * tensor(gain));
        var n = ParameterNormalizer.Fit(ParameterNormalization.Standardize, layout, zoo);
        Assert.NotNull(n.Spread);
        using var y = n.Normalize(zoo);
        // Every convolution number now varies by about 1 across the zoo (its own spread divided out), whatever its scale.
        using var convStd = y.narrow(1, 0, fc.Offset).std([0L]);
        Assert.InRange(convStd.min().item<float>(), 0.75f, 1.0f);
        Assert.InRange(convStd.max().item<float>(), 1.0f, 1.25f);
        // One spread per classifier feature for all rows, one for all biases: class permutation still commutes.
        for (int r = 1; r < 4; r++)
            Assert.Equal(n.Spread!.Skip(fc.Offset).Take(32), n.Spread!.Skip(fc.Offset + r * 32).Take(32));
        AssertPermutingCommutesAndRoundTrips(n, layout, zoo, y, row: 7, [3, 1, 0, 2], tolerance: 1e-4);
    }

    [Fact]
    public void StandardizeRejectsAZeroSpread()
    {
        using var zoo = Zoo();
        var zero = System.Text.Json.Nodes.JsonNode.Parse(ParameterNormalizer.Fit(ParameterNormalization.Standardize, Layout, zoo).ToJson())!.AsObject();
        zero["spread"]![0] = 0.0;
        Assert.Throws<CorruptFileException>(() => ParameterNormalizer.FromJson(zero.ToJsonString()));
    }

    [Fact]
    public void StandardizeKeepsANumberTheZooNeverMovesFinite()
    {
        using var zoo = Zoo();
        using var frozen = zoo.clone();
        frozen.narrow(1, 0, 1).TimesInPlace(0.0).PlusInPlace(0.5);
        var n = ParameterNormalizer.Fit(ParameterNormalization.Standardize, Layout, frozen);
        Assert.True(n.Spread![0] > 0);
        using var y = n.Normalize(frozen);
        Assert.True(y.isfinite().all().item<bool>());
        using var back = n.Denormalize(y);
        Assert.True(back.allclose(frozen, rtol: 1e-5, atol: 1e-6));
    }
}
