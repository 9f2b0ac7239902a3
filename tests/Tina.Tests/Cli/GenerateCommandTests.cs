using Tina.Data;
using Tina.Generation;
using Tina.Generic;
using Tina.MLNet.Export;
using Tina.MLNet;
using Tina.MLNet.Generation.Export;
using Tina.PModels;
using Tina.Tests.Data;
using Tina.Tests.Generation;
using Tina.Zoo;

namespace Tina.Tests.Cli;

/// <summary><c>tina generate</c> and <c>tina bench generate</c> through the real executable, on the fixture's checkpoint.</summary>
public class GenerateCommandTests
{
    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.TempDir(), args);

    [Fact]
    public void GenerateWritesTheSameModelAsTheLibrary()
    {
        var ckpt = GenerationFixture.CheckpointDir;
        var dir = TestData.TempDir();
        var onnx = Path.Combine(dir, "m.onnx");
        var zip = Path.Combine(dir, "m.zip");
        var (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, bear, bicycle", "--out", onnx, "--mlnet", zip, "--seed", "1");
        Assert.True(code == 0, output);
        var info = TinaOnnxModelReader.Read(File.ReadAllBytes(onnx), onnx);
        Assert.Equal(["apple", "bear", "bicycle"], info.Labels);
        Assert.Equal(info.Labels, TinaMLNetModel.ReadEmbeddedModelInfo(zip)!.Labels);
        using var gen = TinaGenerator.Load(ckpt);
        var expected = gen.Generate(["apple", "bear", "bicycle"], new GenerateOptions { Seed = 1 });
        var options = new GenerateOptions { Seed = 1 };
        Assert.Equal(OnnxExporter.Export(expected, "apple, bear, bicycle", options.Describe()), File.ReadAllBytes(onnx));

        (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, pear", "--out", onnx);
        Assert.Equal(2, code);
        Assert.Contains("test-hash-16d", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void AResNet18ClassifierIsGeneratedInBothFormatsAndTheyPredictAlikeOnAPhoto()
    {
        var ckpt = ResNet18GenerationFixture.CheckpointDir;
        var dir = TestData.TempDir();
        string whole = Path.Combine(dir, "whole.onnx"), head = Path.Combine(dir, "head.onnx"), headZip = Path.Combine(dir, "head.zip");
        var (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, bear, bicycle", "--out", whole, "--seed", "3");
        Assert.True(code == 0, output);
        (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, bear, bicycle", "--out", head, "--mlnet", headZip, "--seed", "3", "--format", "head");
        Assert.True(code == 0, output);
        Assert.True(new FileInfo(head).Length < 16 * 1024 && new FileInfo(whole).Length > 40_000_000);
        Assert.True(TinaOnnxModelReader.Read(head).HeadOnly);
        Assert.Equal(224, TinaOnnxModelReader.Read(whole).ImageSize);

        var photo = global::Tina.Tests.MLNet.ResNet18Fixture.Instance.Files.First(f => f.Width > 1000).Path;
        var (wholeCode, wholeOut) = Tina("predict", "--model", whole, "--image", photo);
        var (zipCode, zipOut) = Tina("predict", "--model", headZip, "--image", photo);
        Assert.True(wholeCode == 0 && zipCode == 0, wholeOut + zipOut);
        // The table row of the photo: its label column.
        string Label(string text) => new[] { "apple", "bear", "bicycle" }.Single(l =>
            text.Split('\n').Single(line => line.Contains(Path.GetFileName(photo), StringComparison.Ordinal)).Contains($" {l} ", StringComparison.Ordinal));
        Assert.Equal(Label(wholeOut), Label(zipOut));

        // The generator cannot make a head alone for whole networks.
        (code, output) = Tina("generate", "--generator", GenerationFixture.CheckpointDir, "--prompt", "apple, bear", "--out", head, "--format", "head");
        Assert.Equal(2, code);
        Assert.Contains("can be exported as a head alone", output);
    }

    [Fact]
    public void GenerateEnsembleWritesTheLibrarysEnsemble()
    {
        var ckpt = GenerationFixture.CheckpointDir;
        var onnx = Path.Combine(TestData.TempDir(), "e.onnx");
        var (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple, bear, bicycle", "--out", onnx, "--seed", "2", "--ensemble", "3", "--steps", "10");
        Assert.True(code == 0, output);
        Assert.Contains("ensemble of 3", output);
        using var gen = TinaGenerator.Load(ckpt);
        var options = new GenerateOptions { Seed = 2, EnsembleSize = 3, Steps = 10 };
        var expected = OnnxExporter.Export(gen.GenerateEnsemble(["apple", "bear", "bicycle"], options), "apple, bear, bicycle", options.Describe());
        Assert.Equal(expected, File.ReadAllBytes(onnx));
        var info = TinaOnnxModelReader.Read(onnx);
        Assert.Equal(3, info.EnsembleSize);
        Assert.Equal(options.MemberSeeds(), info.EnsembleSeeds!);

        foreach (var bad in new[] { "0", "17" })
        {
            (code, output) = Tina("generate", "--generator", ckpt, "--prompt", "apple", "--out", onnx, "--ensemble", bad);
            Assert.Equal(2, code);
            Assert.Contains($"--ensemble must be 1 to 16; got {bad}", output);
            Assert.DoesNotContain("   at ", output);
        }
    }

    /// <summary>
    /// An artifacts folder for tina eval on CIFAR-100 with the fixture zoo's tasks: its tasks use the first 12 CIFAR-100
    /// classes, whose indices are the same in the full dataset, so a copy of its manifest that names cifar100 (changed by
    /// <paramref name="edit"/>) is a valid zoo. The generic CNN-5K is untrained (seed 1).
    /// </summary>
    internal static (string Artifacts, string Zoo) CifarEvalArtifacts(Func<ZooManifest, ZooManifest>? edit = null)
    {
        var artifacts = TestData.TempDir();
        _ = Fixtures.Cifar;   // makes sure the shared decoded cache exists
        var cache = SharedDatasets.Store.CachePath("cifar100");
        var store = new DatasetStore(TestData.DataDir, artifacts);
        Directory.CreateDirectory(store.CacheDir);
        File.CreateSymbolicLink(store.CachePath("cifar100"), cache);
        var zoo = Path.Combine(artifacts, "zoo");
        Directory.CreateDirectory(zoo);
        var manifest = ZooManifest.Load(GenerationFixture.ZooDir) with { Dataset = "cifar100" };
        (edit?.Invoke(manifest) ?? manifest).Save(zoo);
        using (var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, 100, seed: 1),
            new GenericModelCard { Arch = "cnn5k", Dataset = "cifar100", Classes = Fixtures.Cifar.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 1, Optimizer = "none" }))
            generic.Save(GenericModel.DefaultPath(artifacts, "cifar100", PModelArch.Cnn5k));
        return (artifacts, zoo);
    }

    [Fact]
    public void EvalOnAValidationZooScoresEveryMethodOnItsValidationImages()
    {
        var split = new ValidationSplit(0.1, 5);
        var (artifacts, zoo) = CifarEvalArtifacts(m => m with { Validation = split });
        var json = Path.Combine(artifacts, "eval.json");
        var (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "classifier-selection", "--zoo", zoo, "--tasks", "3", "--json", json);
        Assert.True(code == 0, output);
        Assert.Contains("validation", output);
        var doc = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal("validation", (string)doc["split"]!);
        // The number is classifier selection on the validation images (5,000 of CIFAR-100's training images), not on
        // the test split.
        var val = split.Apply(Fixtures.Cifar);
        Assert.Equal(5000, val.Test.Count);
        var tasks = FineTunedMethod.Tasks(ZooManifest.Load(zoo), "train", 3);
        using var generic = GenericModel.Load(GenericModel.DefaultPath(artifacts, "cifar100", PModelArch.Cnn5k));
        using var selection = new global::Tina.Evaluation.ClassifierSelectionMethod(generic, val.Test);
        double expected = global::Tina.Evaluation.PAcc.Evaluate(selection, tasks, val.Test).Mean;
        Assert.Equal(Math.Round(expected, 3), (double)doc["id"]!["methods"]!["classifier-selection"]!["pAcc"]!, 3);
    }

    [Fact]
    public void EvalWithAnEnsembleRuns()
    {
        var (artifacts, zoo) = CifarEvalArtifacts();
        var json = Path.Combine(artifacts, "eval.json");
        var (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--ensemble", "2", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--ddim-steps", "10", "--json", json);
        Assert.True(code == 0, output);
        Assert.Contains("tina-ens2", output);
        Assert.Contains("tina-ens2", File.ReadAllText(json));

        // Other conditioning texts reach the generator: the fixture's test encoder cannot be opened by tina, so texts
        // outside its stored names (descriptions, plurals) fail with that message, and stored ones (other casing) work.
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--ddim-steps", "5", "--prompt-kind", "descriptions");
        Assert.Equal(2, code);
        Assert.Contains("which Tina cannot open", output);
        var texts = Path.Combine(artifacts, "texts.tsv");
        var first = global::Tina.Zoo.ZooManifest.Load(zoo).Tasks[0].Names[0];
        File.WriteAllText(texts, $"# other casing\n{first}\t{first.ToUpperInvariant()}\n");
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--ddim-steps", "5", "--class-texts", texts);
        Assert.True(code == 0, output);
        File.WriteAllText(texts, $"{first}\t{first}s\n");
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--ddim-steps", "5", "--class-texts", texts);
        Assert.Equal(2, code);
        Assert.Contains("which Tina cannot open", output);
        File.WriteAllText(texts, "apple apples\n");
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--class-texts", texts);
        Assert.Equal(2, code);
        Assert.Contains("Line 1 of", output);
        // A line for a class the dataset lacks is refused (it was skipped, and a typo went unnoticed).
        File.WriteAllText(texts, "trolleybus\ttrolley\n");
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--zoo", zoo,
            "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--class-texts", texts);
        Assert.Equal(2, code);
        Assert.Contains("Unknown class 'trolleybus'", System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " "));

        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "generic", "--ensemble", "2");
        Assert.Equal(2, code);
        Assert.Contains("--ensemble applies to the tina methods", output);
        (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "tina", "--ensemble", "20");
        Assert.Equal(2, code);
        Assert.Contains("--ensemble must be 1 to 16; got 20", output);
    }

    [Fact]
    public void ExportMakesTextToRowsForAnyWordsAndSaysWhyEvalsOtherMethodsAreNotExported()
    {
        var (artifacts, _) = CifarEvalArtifacts();
        using (var generic = new GenericModel(PModelNetwork.Create(PModelArch.ResNet20, 100, seed: 1),
            new GenericModelCard { Arch = "resnet20", Dataset = "cifar100", Classes = Fixtures.Cifar.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 1, Optimizer = "none" }))
            generic.Save(GenericModel.DefaultPath(artifacts, "cifar100", PModelArch.ResNet20));
        var onnx = Path.Combine(artifacts, "t.onnx");
        var (code, output) = TinaProcess.Run(artifacts, "export", "--method", "text-to-rows", "--arch", "resnet20", "--classes", "apple, zebra crossing", "--encoder", "minilm", "--out", onnx);
        Assert.True(code == 0, output);
        Assert.Equal(["apple", "zebra crossing"], TinaOnnxModelReader.Read(onnx).Labels);
        foreach (var (method, expected) in new[]
        {
            ("tina-ens2", "'tina-ens2' p-Models are generated: tina generate"), ("finetune", "'finetune' is scored by tina eval but makes no p-Model"),
            ("body:finetune+classifier:tina", "is scored by tina eval"), ("rows", "Unknown method 'rows'. Available: classifier-selection, text-to-rows."),
        })
        {
            (code, output) = TinaProcess.Run(artifacts, "export", "--method", method, "--classes", "apple", "--out", onnx);
            Assert.Equal(2, code);
            Assert.Contains(expected, output.Replace("\n", " "));
        }
    }

    [Fact]
    public void BenchGeneratePrintsPercentiles()
    {
        var (code, output) = Tina("bench", "generate", "--generator", GenerationFixture.CheckpointDir, "--runs", "3", "--ddpm-runs", "0", "--steps", "10");
        Assert.True(code == 0, output);
        Assert.Contains("DDIM-10", output);
        Assert.Contains("p90 ms", output);
        Assert.Contains("floor ms", output);
        Assert.Contains("one file", output);
        Assert.DoesNotContain("head", output); // a cnn5k generator has no head alone to time
        (code, output) = Tina("bench", "generate", "--generator", GenerationFixture.CheckpointDir, "--runs", "2", "--ddpm-runs", "0", "--steps", "5", "--ensemble", "4");
        Assert.True(code == 0, output);
        Assert.Contains("ensemble of 4", output);
        Assert.Contains("DDIM-5", output);
    }
}
