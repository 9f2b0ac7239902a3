using Tina.Diffusion;
using Tina.Generation;
using Tina.IO;
using Tina.MLNet.Errors;
using Tina.MLNet.IO;
using Tina.PModels;

namespace Tina.Tests.Generation;

/// <summary>
/// Rows generated from their text-to-rows start (<see cref="RowStart.TextToRows"/>): the start travels with the
/// checkpoint and generation adds exactly it — a stored name's trained start, the map's prediction for a new word.
/// </summary>
public class TextToRowsStartTests
{
    private static readonly Lazy<string> _checkpoint = new(() =>
    {
        var dir = Path.Combine(TestData.TempDir(), "tina-start");
        using var encoder = new HashTextEncoder();
        new TinaTrainer(GenerationFixture.Options(2) with { Start = RowStart.TextToRows }, encoder).Train(ResNet18GenerationFixture.ZooDir, dir);
        return dir;
    });

    [Fact]
    public void GenerationAddsTheStoredStartOfASeenNameAndTheMapsPredictionForANewWord()
    {
        var dir = _checkpoint.Value;
        var state = TinaCheckpoint.Load(dir);
        Assert.Equal(RowStart.TextToRows, state.Options.Start);
        var weights = TinaWeights.Load(dir, state);
        var stored = state.TextNames[..^1];
        Assert.Equal([17L, 513L], weights.StartMap!.Shape);                 // 16-d test texts + 1 → 512 features + bias
        Assert.Equal([(long)stored.Length, 513L], weights.StartTable!.Shape);
        var start = new TextToRowsStart(weights.StartMap, weights.StartTable, stored);

        // The same checkpoint with both starts zeroed: what the diffusion alone makes.
        var bare = Path.Combine(TestData.TempDir(), "tina-start-zeroed");
        Directory.CreateDirectory(bare);
        foreach (var file in Directory.GetFiles(dir)) File.Copy(file, Path.Combine(bare, Path.GetFileName(file)));
        var weightsPath = Path.Combine(bare, state.WeightsFile);
        var (tensors, metadata) = SafeTensors.Load(weightsPath);
        foreach (var name in new[] { "start.map", "start.table" })
            tensors[name] = new NamedTensor(tensors[name].Shape, new float[tensors[name].Data.Length]);
        SafeTensors.Save(weightsPath, tensors.ToList(), metadata);

        string seen = stored[1], unseen = "violet kangaroo";
        var options = new GenerateOptions { Seed = 3 };
        using var encoder = new HashTextEncoder();
        using var withStart = TinaGenerator.Load(dir, encoder);
        using var zeroed = TinaGenerator.Load(bare, encoder);
        var a = withStart.Generate([seen, unseen], options);
        var b = zeroed.Generate([seen, unseen], options);
        var layout = ParameterLayout.For(PModelArch.ResNet18, 2);
        var expected = new[] { start.For(seen, encoder.Encode([seen])[0]), start.For(null, encoder.Encode([unseen])[0]) };
        Assert.Equal(weights.StartTable.Data.AsSpan(1 * 513, 513).ToArray(), expected[0]);
        for (int c = 0; c < 2; c++)
        {
            for (int k = 0; k < 512; k += 17)
            {
                int i = layout["fc.weight"].Offset + c * 512 + k;
                Assert.Equal(expected[c][k], a.Parameters[i] - b.Parameters[i], 1e-4);
            }
            int bias = layout["fc.bias"].Offset + c;
            Assert.Equal(expected[c][512], a.Parameters[bias] - b.Parameters[bias], 1e-4);
        }
        // A new word's start is the map's prediction, not a stored one: it differs from every stored start.
        Assert.All(Enumerable.Range(0, stored.Length), i => Assert.NotEqual(weights.StartTable.Data.AsSpan(i * 513, 513).ToArray(), expected[1]));
    }

    [Fact]
    public void AWeightsFileWithoutTheStartIsRefusedAndOtherZoosOrPromptsCannotUseIt()
    {
        var dir = _checkpoint.Value;
        var state = TinaCheckpoint.Load(dir);
        var broken = Path.Combine(TestData.TempDir(), "tina-start-missing");
        Directory.CreateDirectory(broken);
        foreach (var file in Directory.GetFiles(dir)) File.Copy(file, Path.Combine(broken, Path.GetFileName(file)));
        var weightsPath = Path.Combine(broken, state.WeightsFile);
        var (tensors, metadata) = SafeTensors.Load(weightsPath);
        tensors.Remove("start.table");
        SafeTensors.Save(weightsPath, tensors.ToList(), metadata);
        var e = Assert.Throws<CorruptFileException>(() => TinaGenerator.Load(broken, new HashTextEncoder()));
        Assert.Contains("start.table", e.Message);

        using var encoder = new HashTextEncoder();
        var cnn = Assert.Throws<TinaException>(() => new TinaTrainer(GenerationFixture.Options(1) with { Start = RowStart.TextToRows }, encoder)
            .Train(GenerationFixture.ZooDir, Path.Combine(TestData.TempDir(), "tina-start-cnn")));
        Assert.Contains("head-only", cnn.Message);
        Assert.Throws<TinaException>(() => (GenerationFixture.Options(1) with { Start = RowStart.TextToRows, Prompts = PromptKind.Descriptions }).Validate());
    }
}
