using Tina.Diffusion;
using Tina.MLNet.Errors;
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

    [Theory]
    [InlineData("Center")]
    [InlineData("Standardize")]
    public void ARemovedNormalisationIsRefusedNamingTheLastCommitWithIt(string kind)
    {
        // --normalize center|standardize measured no gain and was removed; a normaliser saved with one says where it existed.
        using var zoo = Zoo();
        var json = System.Text.Json.Nodes.JsonNode.Parse(ParameterNormalizer.Fit(ParameterNormalization.PerTensor, Layout, zoo).ToJson())!;
        json["kind"] = kind;
        var e = Assert.Throws<CorruptFileException>(() => ParameterNormalizer.FromJson(json.ToJsonString()));
        Assert.Contains("removed", e.Message);
        Assert.Contains("adedade", e.Message);
    }
}
