using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Tina.Tests.Generation;
using Tina.Zoo;
using Tina.Generation;
using Tina.MLNet.Export;
using Tina.MLNet;
using static Tina.Tests.Export.OnnxTestSupport;

namespace Tina.Tests.MLNet;

public class TinaGeneratePipelineTests
{
    private static readonly string[] Prompt = ["apple", "bear", "bicycle"];

    [Fact]
    public void GeneratedClassifierSavesReloadsAndPredictsLikeOnnxRuntime()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 2);
        var dir = TestData.TempDir();
        var files = new string[data.Test.Count];
        var pixels = new float[data.Test.Count * 3 * 32 * 32];
        for (int i = 0; i < files.Length; i++)
        {
            files[i] = $"{i:D2}.png";
            Tina.Data.PngWriter.Write(Path.Combine(dir, files[i]), data.Test.Image(i));
            var img = data.Test.Image(i);
            for (int j = 0; j < img.Length; j++) pixels[i * img.Length + j] = img[j] / 255f;
        }

        // Reference: the same generated p-Model through ONNX Runtime directly.
        using var generator = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var pmodel = generator.Generate(Prompt, new GenerateOptions { Seed = 3 });
        using var session = new InferenceSession(OnnxExporter.Export(pmodel));
        var (ortScores, ortIndex) = RunOnnx(session, pixels, files.Length);

        // TinaGenerate from the checkpoint path: Fit generates, the chain saves and reloads in a fresh context.
        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.TinaGenerate(new TinaGenerateOptions
        {
            GeneratorPath = GenerationFixture.CheckpointDir, Classes = Prompt, Seed = 3, ImageFolder = dir,
        });
        var empty = TinaMLNetModel.EmptyInput(ml);
        var fitted = estimator.Fit(empty);
        Assert.True(pmodel.Parameters.AsSpan().SequenceEqual(estimator.GeneratedModel.Parameters));
        var zip = Path.Combine(TestData.TempDir(), "tina.zip");
        TinaMLNetModel.Save(ml, fitted, zip);
        var info = TinaMLNetModel.ReadEmbeddedModelInfo(zip);
        Assert.NotNull(info);
        Assert.Equal(Prompt, info!.Labels);

        var ml2 = new MLContext(seed: 2);
        var loaded = TinaMLNetModel.Load(ml2, zip, out _);
        using var engine = ml2.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
        for (int i = 0; i < files.Length; i++)
        {
            var p = engine.Predict(new TinaImageInput { ImagePath = files[i] });
            Assert.Equal(ortIndex[i], Assert.Single(p.ClassIndex));
            Assert.Equal(Prompt[(int)ortIndex[i]], Assert.Single(p.PredictedLabel));
            for (int k = 0; k < Prompt.Length; k++) Assert.Equal(ortScores[i * Prompt.Length + k], p.Score[k], 1e-5f);
        }

        // A shared, already loaded generator gives the same model; bad prompts fail at Fit with a clear error.
        var shared = ml.Transforms.TinaGenerate(new TinaGenerateOptions { Generator = generator, Classes = Prompt, Seed = 3 });
        Assert.True(pmodel.Parameters.AsSpan().SequenceEqual(shared.GeneratedModel.Parameters));
        Assert.Throws<InvalidPromptException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { Generator = generator, Classes = ["apple", "APPLE"] }).Fit(empty));
        Assert.Throws<ArgumentException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { Classes = Prompt }));
    }

    [Fact]
    public void OutputSchemaComesFromTheClassListWithoutLoadingTheGenerator()
    {
        var ml = new MLContext(seed: 1);
        var missing = Path.Combine(TestData.TempDir(), "no-generator-here");
        var estimator = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = missing, Prompt = "apple, pear, orange", ScoreColumnName = "Probabilities" });
        var shape = estimator.GetOutputSchema(SchemaShapeOf(TinaMLNetModel.EmptyInput(ml).Schema));
        Assert.Contains(shape, c => c.Name == "PredictedLabel");
        Assert.Contains(shape, c => c.Name == "Probabilities" && c.ItemType == NumberDataViewType.Single);
        Assert.Contains(shape, c => c.Name == "ClassIndex");
        // Fit does load it, and says where it looked.
        Assert.Contains(missing, TinaAssert.ThrowsTinaError(() => estimator.Fit(TinaMLNetModel.EmptyInput(ml))).Message);
    }

    [Fact]
    public void GeneratorOpensItsTextEncoderOnlyForNamesOutsideTheZooAndOnlyOnce()
    {
        int opened = 0;
        using var generator = TinaGenerator.Load(GenerationFixture.CheckpointDir, id =>
        {
            opened++;
            return new HashTextEncoder();
        });
        var zooNames = generator.StoredClassNames.Take(3).ToArray();
        generator.Generate(zooNames);
        Assert.Equal(0, opened);
        var withNew = new[] { zooNames[0], "snow leopard" };
        var a = generator.Generate(withNew, new GenerateOptions { Seed = 1 });
        generator.Generate(["mountain bike", zooNames[1]]);
        Assert.Equal(1, opened);

        // The same weights as with the encoder given up front.
        using var encoder = new HashTextEncoder();
        using var given = TinaGenerator.Load(GenerationFixture.CheckpointDir, encoder);
        Assert.True(a.Parameters.AsSpan().SequenceEqual(given.Generate(withNew, new GenerateOptions { Seed = 1 }).Parameters));

        // An opener that returns another encoder than the checkpoint's is refused with both ids.
        using var wrong = TinaGenerator.Load(GenerationFixture.CheckpointDir, _ => new WrongIdEncoder());
        var e = Assert.Throws<TinaException>(() => wrong.Generate(["snow leopard", "mountain bike"]));
        Assert.Contains("wrong-id", e.Message);
    }

    private sealed class WrongIdEncoder : Tina.Text.ITextEncoder
    {
        public string Id => "wrong-id";
        public int Dimension => 8;
        public float[][] Encode(IReadOnlyList<string> texts) => texts.Select(_ => new float[8]).ToArray();
        public void Dispose() { }
    }

    private static SchemaShape SchemaShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)!
            .Invoke(null, [schema])!;

    [Fact]
    public void EnsembleOptionEmbedsTheEnsembleOnnx()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 1);
        var dir = TestData.TempDir();
        var pixels = new float[data.Test.Count * 3 * 32 * 32];
        for (int i = 0; i < data.Test.Count; i++)
        {
            var img = data.Test.Image(i);
            Tina.Data.PngWriter.Write(Path.Combine(dir, $"{i:D2}.png"), img);
            for (int j = 0; j < img.Length; j++) pixels[i * img.Length + j] = img[j] / 255f;
        }
        using var generator = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var options = new GenerateOptions { Seed = 3, EnsembleSize = 3 };
        var ensemble = generator.GenerateEnsemble(Prompt, options);
        using var session = new InferenceSession(OnnxExporter.Export(ensemble));
        var (ortScores, ortIndex) = RunOnnx(session, pixels, data.Test.Count);

        var ml = new MLContext(seed: 1);
        var estimator = ml.Transforms.TinaGenerate(new TinaGenerateOptions { Generator = generator, Classes = Prompt, Seed = 3, Ensemble = 3, ImageFolder = dir });
        var fitted = estimator.Fit(TinaMLNetModel.EmptyInput(ml));
        Assert.Equal(3, estimator.GeneratedEnsemble.Count);
        for (int m = 0; m < 3; m++) Assert.True(ensemble.Members[m].Parameters.AsSpan().SequenceEqual(estimator.GeneratedEnsemble.Members[m].Parameters));
        Assert.Throws<InvalidOperationException>(() => estimator.GeneratedModel);
        var zip = Path.Combine(TestData.TempDir(), "ensemble.zip");
        TinaMLNetModel.Save(ml, fitted, zip);
        var info = TinaMLNetModel.ReadEmbeddedModelInfo(zip)!;
        Assert.Equal(3, info.EnsembleSize);
        Assert.Equal(options.MemberSeeds(), info.EnsembleSeeds!);
        Assert.Equal(options.Describe(), info.Method);

        var ml2 = new MLContext(seed: 2);
        var loaded = TinaMLNetModel.Load(ml2, zip, out _);
        using var engine = ml2.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
        for (int i = 0; i < data.Test.Count; i++)
        {
            var p = engine.Predict(new TinaImageInput { ImagePath = $"{i:D2}.png" });
            Assert.Equal(ortIndex[i], Assert.Single(p.ClassIndex));
            for (int k = 0; k < Prompt.Length; k++) Assert.Equal(ortScores[i * Prompt.Length + k], p.Score[k], 1e-5f);
        }

        // The default (1) is the single generated classifier; a bad size is refused when the estimator is made.
        Assert.True(generator.Generate(Prompt, new GenerateOptions { Seed = 3 }).Parameters.AsSpan()
            .SequenceEqual(ml.Transforms.TinaGenerate(new TinaGenerateOptions { Generator = generator, Classes = Prompt, Seed = 3 }).GeneratedModel.Parameters));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.TinaGenerate(new TinaGenerateOptions { Generator = generator, Classes = Prompt, Ensemble = 17 }));
        Assert.Contains("got 17", e.Message);
    }
}
