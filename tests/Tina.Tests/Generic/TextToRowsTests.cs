using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using static TorchSharp.torch;

namespace Tina.Tests.Generic;

public class TextToRowsTests
{
    /// <summary>
    /// A known answer: when every row (and bias) is exactly a linear function of its class's text, the map fitted on
    /// some classes predicts the rows of classes it never saw, and cross-validation picks a weak ridge.
    /// </summary>
    [Fact]
    public void RowsThatAreALinearFunctionOfTheTextAreRecoveredForUnseenClasses()
    {
        const int classes = 40, textDim = 6, featureDim = 512;
        var rng = new Random(3);
        var texts = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, textDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var a = Enumerable.Range(0, (textDim + 1) * (featureDim + 1)).Select(_ => rng.NextDouble() - 0.5).ToArray();
        float Target(int c, int j) => (float)(a[textDim * (featureDim + 1) + j] + Enumerable.Range(0, textDim).Sum(k => texts[c][k] * a[k * (featureDim + 1) + j]));
        var weight = new float[classes * featureDim];
        var bias = new float[classes];
        for (int c = 0; c < classes; c++)
        {
            for (int j = 0; j < featureDim; j++) weight[c * featureDim + j] = Target(c, j);
            bias[c] = Target(c, featureDim);
        }
        var data = Fixtures.CifarSubset(classes: classes, perClass: 1, testPerClass: 1);
        using var generic = Fixtures.UntrainedGeneric(data, PModelArch.ResNet18, seed: 1);
        using (no_grad())
        {
            generic.Network.fc.weight!.copy_(tensor(weight, [classes, featureDim]));
            generic.Network.fc.bias!.copy_(tensor(bias));
        }
        var seen = Enumerable.Range(0, 30).ToArray();
        var map = TextToRows.Fit(generic, seen, seen.Select(c => texts[c]).ToArray());
        Assert.Equal(TextToRows.Lambdas[0], map.Lambda);          // an exact linear relation wants the weakest ridge
        Assert.True(map.ValidationError < 1e-3, $"cross-validated row error {map.ValidationError}");
        foreach (var unseen in new[] { 31, 35, 39 })
        {
            var (row, b) = map.Predict(texts[unseen]);
            for (int j = 0; j < featureDim; j += 37) Assert.Equal(Target(unseen, j), row[j], 0.02);
            Assert.Equal(Target(unseen, featureDim), b, 0.02);
        }
        // Each seen class's held-out prediction comes from the fold that never saw it: as exact as an unseen class's,
        // and not the class's own row copied (the rows of other classes are far from it).
        for (int i = 0; i < seen.Length; i += 7)
        {
            var heldOut = map.HeldOutPrediction(i);
            Assert.Equal(featureDim + 1, heldOut.Length);
            for (int j = 0; j < featureDim; j += 37) Assert.Equal(Target(seen[i], j), heldOut[j], 0.02);
            Assert.Equal(Target(seen[i], featureDim), heldOut[featureDim], 0.02);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => map.HeldOutPrediction(seen.Length));
        var pmodel = map.Create(["x", "y"], [texts[31], texts[35]]);
        Assert.Equal(PModelArch.ResNet18, pmodel.Arch);
        Assert.Equal(["x", "y"], pmodel.Labels);
        Assert.Equal(2 * (featureDim + 1), pmodel.Parameters.Length);
    }

    [Fact]
    public void NoisyRowsChooseAStrongerRidgeAndWholeNetworksAreRefused()
    {
        const int classes = 30, textDim = 20;
        var rng = new Random(5);
        var data = Fixtures.CifarSubset(classes: classes, perClass: 1, testPerClass: 1);
        using var generic = Fixtures.UntrainedGeneric(data, PModelArch.ResNet20, seed: 2);   // random rows: unrelated to any text
        var texts = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, textDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var map = TextToRows.Fit(generic, Enumerable.Range(0, classes).ToArray(), texts);
        Assert.True(map.Lambda >= 1, $"λ {map.Lambda}: rows that no text explains should be shrunk towards their mean");
        // Held out, a random row is predicted by the others' mean, nowhere near itself: the rows a generator with a
        // text-to-rows start learns to add are as large as an unseen word's.
        var rows = StateDictRows(generic, 0);
        var heldOut = map.HeldOutPrediction(0);
        double own = rows.Zip(heldOut).Sum(p => (p.First - p.Second) * (double)(p.First - p.Second));
        Assert.True(own > 0.5 * rows.Sum(v => (double)v * v), $"held-out prediction of class 0 is too close to its own row ({own})");
        using var cnn = Fixtures.UntrainedGeneric(data, PModelArch.Cnn5k, seed: 2);
        Assert.Throws<TinaException>(() => TextToRows.Fit(cnn, Enumerable.Range(0, classes).ToArray(), texts));
    }

    private static float[] StateDictRows(GenericModel generic, int c)
    {
        var state = StateDict.Export(generic.Network);
        int f = (int)state["fc.weight"].Shape[1];
        return [.. state["fc.weight"].Data.AsSpan(c * f, f).ToArray(), state["fc.bias"].Data[c]];
    }
}
