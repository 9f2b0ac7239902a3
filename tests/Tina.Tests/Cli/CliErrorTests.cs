namespace Tina.Tests.Cli;

/// <summary>Bad input through the real <c>tina</c> executable: a clear message, exit code 2, no stack trace.</summary>
public class CliErrorTests
{
    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.ArtifactsDir, args);

    [Theory]
    [InlineData("Unknown class 'zebra'", "export", "--classes", "apple, zebra", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("Tina makes a classifier from any words: tina generate --generator CKPT", "export", "--classes", "apple, sofa", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("Duplicate class: class 2, 'Apple', is the same as class 1, 'apple'", "export", "--classes", "apple, Apple", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("The class list is empty", "export", "--classes", " , ", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("File not found: /nonexistent/m.onnx", "predict", "--model", "/nonexistent/m.onnx", "--image", "a.png")]
    [InlineData("Unknown method(s): foo", "eval", "--methods", "foo")]
    [InlineData("Unknown p-Model architecture 'vgg'", "export", "--arch", "vgg", "--classes", "apple", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("--groups: 'x' is not a positive integer", "bench", "zoo", "--groups", "8,x")]
    [InlineData("--processes must be at least 1; got 0", "bench", "zoo", "--processes", "0")]
    [InlineData("--l2-sp must be 0 or more; got -1", "zoo", "build", "--l2-sp", "-1")]
    [InlineData("--val-fraction must be at least 0 and below 1; got 1", "zoo", "build", "--val-fraction", "1")]
    [InlineData("--body-lr-scale must be 0 or more; got -1", "zoo", "build", "--body-lr-scale", "-1")]
    [InlineData("--l2-sp: '-0.1' is not a non-negative number", "zoo", "tune", "--l2-sp", "0,-0.1")]
    [InlineData("--steps: '0' is not a positive integer", "bench", "generate", "--steps", "20,0")]
    [InlineData("Unknown ablation 'rowz'", "train", "--zoo", "/nonexistent", "--ablation", "no-augmentation,rowz")]
    [InlineData("--ablation rows and chunks are two layouts", "train", "--zoo", "/nonexistent", "--ablation", "rows,chunks")]
    [InlineData("Unknown recipe 'resnet50'", "zoo", "build", "--recipe", "resnet50")]
    [InlineData("The recipe cnn5k is for cnn5k p-Models, not --arch resnet20", "zoo", "build", "--recipe", "cnn5k", "--arch", "resnet20")]
    [InlineData("Unknown loss weighting 'foo'", "train", "--zoo", "/nonexistent", "--loss-weighting", "foo")]
    [InlineData("Unknown normalisation 'bar'", "train", "--zoo", "/nonexistent", "--normalize", "bar")]
    [InlineData("Unknown prompt kind 'words'", "train", "--zoo", "/nonexistent", "--prompt-kind", "words")]
    [InlineData("Give the classes with one of --prompt", "generate", "--generator", "/nonexistent", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("--unseen-classes must be at least 0 and below 1; got 1.5", "zoo", "build", "--arch", "resnet20", "--unseen-classes", "1.5")]
    [InlineData("--methods taper-mixer needs --zoo DIR", "eval", "--arch", "resnet20", "--methods", "taper-mixer")]
    [InlineData("--splice takes BODY/CLASSIFIER pairs, each part one of tina, finetune, classifier-selection; got 'tina/rows'", "eval", "--splice", "tina/rows")]
    [InlineData("--splice 'finetune/classifier-selection': one part must be tina", "eval", "--splice", "finetune/classifier-selection")]
    [InlineData("--splice 'finetune/tina' needs --zoo DIR", "eval", "--splice", "finetune/tina")]
    [InlineData("File not found: /nonexistent-backbone/ResNet18Onnx/ResNet18.onnx. The ResNet-18 backbone comes from the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18", "features", "--dataset", "cifar100@1+1", "--backbone", "/nonexistent-backbone")]
    [InlineData("'cifar100@x': after '@' give the training images per class", "features", "--dataset", "cifar100@x")]
    [InlineData("Unknown classifier format 'zip'", "export", "--arch", "resnet18", "--classes", "apple, pear", "--format", "zip", "--out", "/tmp/tina-cli-test.onnx")]
    [InlineData("--cross-dataset scores lists drawn from the shared classes, which have no fine-tuned p-Models", "eval", "--arch", "resnet18", "--methods", "finetune", "--zoo", "/nonexistent", "--cross-dataset", "caltech101")]
    [InlineData("Unrecognized command or argument '--bogus'", "train", "--zoo", "/nonexistent", "--bogus")]
    [InlineData("Run 'tina zoo build --help' for the options.", "zoo", "build", "--classs", "2-10")]
    [InlineData("Unrecognized command or argument 'trian'", "trian")]
    public void UserErrorsAreOneClearLineWithExitCode2(string expected, params string[] args)
    {
        var (code, output) = Tina(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, output.Replace("\n", " ").Replace("  ", " "));
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("Class 2, 'pe\\u0007ar', contains the control character U+0007", "export", "--classes", "apple;pe\u0007ar")]
    [InlineData("Duplicate class: class 3, 'APPLE', is the same as class 1, 'apple'", "export", "--classes", "apple\npear\r\nAPPLE")]
    [InlineData("Duplicate class: class 2, 'maple tree', is the same as class 1, 'maple_tree'", "data", "images", "--classes", "maple_tree;maple tree")]
    [InlineData("The class list is empty", "data", "images", "--classes", " ;\n, ")]
    [InlineData("is 120,000 characters long", "generate", "--generator", "/nonexistent", "--prompt", "@long")]
    [InlineData("Duplicate class: class 2, 'Pear', is the same as class 1, 'pear'", "bench", "generate", "--generator", "/nonexistent", "--prompt", "pear; Pear")]
    public void OddPromptsAreOneLineWithExitCode2AndWriteNothing(string expected, params string[] args)
    {
        var dir = TestData.TempDir();
        var output = Path.Combine(dir, "out");
        var all = args.Select(a => a == "@long" ? new string('a', 120_000) : a).ToList();
        if (args[0] != "bench") all.AddRange(args[0] == "data" ? ["--out", output] : ["--out", output + ".onnx", "--mlnet", output + ".zip"]);
        var (code, text) = TinaProcess.Run(dir, [.. all]);
        Assert.Equal(2, code);
        var line = Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.True(line.Length < 300, line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    [Fact]
    public void DataImagesAcceptsMapleTree()
    {
        var dir = TestData.TempDir();
        var (code, output) = Tina("data", "images", "--classes", "Maple Tree; pear", "--per-class", "1", "--out", dir);
        Assert.True(code == 0, output);
        Assert.Equal(["Maple_Tree_0.png", "pear_0.png"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ACorruptBackboneFileIsOneLineWithExitCode2()
    {
        var dir = TestData.TempDir();
        foreach (var sub in new[] { "ResNet18Onnx", "ResNetPrepOnnx" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        File.Copy(Path.Combine(global::Tina.MLNet.ResNet18Backbone.DefaultDirectory, "ResNetPrepOnnx", "ResNetPreprocess.onnx"), Path.Combine(dir, "ResNetPrepOnnx", "ResNetPreprocess.onnx"));
        var truncated = File.ReadAllBytes(Path.Combine(global::Tina.MLNet.ResNet18Backbone.DefaultDirectory, "ResNet18Onnx", "ResNet18.onnx")).AsSpan(0, 100_000).ToArray();
        File.WriteAllBytes(Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx"), truncated);
        var (code, output) = Tina("features", "--dataset", "cifar100@1+1", "--backbone", dir);
        Assert.Equal(2, code);
        Assert.Contains($"Corrupt or unreadable file {Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx")}", output.Replace("\n", ""));
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void AnUnknownOptionIsNotAnsweredWithTheWholeHelpPage()
    {
        var (code, output) = Tina("train", "--zoo", "/nonexistent", "--text-noise", "0.3");   // an option that was removed
        Assert.Equal(2, code);
        Assert.Contains("error: Unrecognized command or argument '--text-noise'", output);
        Assert.DoesNotContain("Options:", output);
        Assert.True(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 4, output);
    }

    [Theory]
    [InlineData("manifest")]
    [InlineData("shard")]
    public void ACorruptZooManifestOrShardIsOneLineNamingTheFile(string part)
    {
        // A copy of the fixture zoo with one file damaged: the manifest cut short, or a shard's bytes overwritten.
        var zoo = Path.Combine(TestData.TempDir(), "zoo");
        Directory.CreateDirectory(zoo);
        foreach (var f in Directory.GetFiles(Generation.GenerationFixture.ZooDir)) File.Copy(f, Path.Combine(zoo, Path.GetFileName(f)));
        string damaged;
        if (part == "manifest")
        {
            damaged = Path.Combine(zoo, "manifest.json");
            File.WriteAllText(damaged, File.ReadAllText(damaged)[..40]);
        }
        else
        {
            damaged = Directory.GetFiles(zoo, "shard-*.safetensors").Order(StringComparer.Ordinal).First();
            File.WriteAllBytes(damaged, [.. File.ReadAllBytes(damaged).Take(100), .. new byte[50]]);
        }
        var (code, output) = Tina("train", "--zoo", zoo, "--epochs", "1", "--out", Path.Combine(zoo, "..", "tina"));
        Assert.Equal(2, code);
        Assert.Contains("Corrupt or unreadable file", output);
        Assert.Contains(Path.GetFileName(damaged), output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void CorruptGenericModelIsReported()
    {
        var artifacts = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(artifacts, "generic"));
        File.WriteAllText(Path.Combine(artifacts, "generic", "cifar100-cnn5k.json"), "{ not json");
        var (code, output) = TinaProcess.Run(artifacts, "generic", "show");
        Assert.Equal(2, code);
        Assert.Contains("Corrupt or unreadable file", output);
        Assert.DoesNotContain("   at ", output);
    }
}
