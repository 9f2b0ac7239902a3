using Tina.Evaluation.Plan;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Tests.Cli;
using Tina.Tests.Generation;

namespace Tina.Tests.Evaluation;

/// <summary>The evaluation plan of the library (<see cref="Evaluator"/>), the one path under <c>tina eval</c>.</summary>
public class EvaluatorTests
{
    private static readonly Evaluator Checker = new(new EvaluationEnvironment(Path.GetTempPath()));

    [Fact]
    public void TheLibrarysReportIsWhatTheCliWritesToJson()
    {
        var (artifacts, zoo) = GenerateCommandTests.CifarEvalArtifacts();
        var json = Path.Combine(artifacts, "eval.json");
        var (code, output) = TinaProcess.Run(artifacts, "eval", "--arch", "cnn5k", "--methods", "generic,classifier-selection,finetune,tina", "--splice", "classifier-selection/tina",
            "--zoo", zoo, "--generator", GenerationFixture.CheckpointDir, "--tasks", "2", "--ddim-steps", "5", "--json", json);
        Assert.True(code == 0, output);

        var report = new Evaluator(new EvaluationEnvironment(artifacts, TestData.DataDir)).Run(new EvaluationOptions
        {
            Arch = PModelArch.Cnn5k, Methods = ["generic", "classifier-selection", "finetune", "tina"], Splices = ["classifier-selection/tina"],
            Zoo = zoo, Generator = GenerationFixture.CheckpointDir, Tasks = 2, DdimSteps = 5,
        });
        Assert.Equal(File.ReadAllText(json), report.ToJsonString());
        var doc = System.Text.Json.Nodes.JsonNode.Parse(report.ToJsonString())!;
        // The shape result files and tina-plot read: run facts, then one object per zoo group with its methods.
        Assert.Equal(["dataset", "arch", "split", "tasks", "taskSource", "genericTestAccuracy", "id", "ood"], doc.AsObject().Select(p => p.Key));
        Assert.Equal(["tasks", "methods"], doc["id"]!.AsObject().Select(p => p.Key));
        Assert.Equal(["pAcc", "std"], doc["id"]!["methods"]!["tina"]!.AsObject().Select(p => p.Key));
        Assert.Equal(Path.GetFullPath(zoo), (string)doc["taskSource"]!);
        Assert.Equal(["generic", "classifier-selection", "finetune", "tina", "body:classifier-selection+classifier:tina"],
            doc["id"]!["methods"]!.AsObject().Select(p => p.Key));
        Assert.Equal(2, (int)doc["ood"]!["tasks"]!);
        // What the CLI prints is the report's: its table rows and a verdict per group.
        Assert.All(report.Tables()[0].Rows, row => Assert.Contains(row[2], output));
        Assert.Equal(["ID", "OOD"], report.Verdicts().Select(v => v.Group));
        Assert.Contains("Verdict, ID (2 class lists)", output);
    }

    [Fact]
    public void RandomTasksAPromptsFileAndTextToRowsRunThroughTheEnvironmentsHooks()
    {
        // text-to-rows predicts heads: an untrained ResNet-20 generic model, on 5 training and 5 test images per class.
        var (artifacts, _) = GenerateCommandTests.CifarEvalArtifacts();
        var genericPath = Path.Combine(artifacts, "resnet20");
        using (var generic = new global::Tina.Generic.GenericModel(PModelNetwork.Create(PModelArch.ResNet20, 100, seed: 1),
            new global::Tina.Generic.GenericModelCard { Arch = "resnet20", Dataset = "cifar100@5+5", Classes = Fixtures.Cifar.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 1, Optimizer = "none" }))
            generic.Save(genericPath);
        var environment = new RecordingEnvironment(artifacts);
        var small = new EvaluationOptions { Dataset = "cifar100@5+5", Arch = PModelArch.ResNet20, GenericModel = genericPath };
        var random = new Evaluator(environment).Run(small with { Methods = ["classifier-selection", "text-to-rows"], Tasks = 3, ClassesPerTask = 4, Seed = 2 });
        var doc = random.ToJson();
        Assert.Equal("random (seed 2, 4 classes)", (string)doc["taskSource"]!);
        Assert.Equal(3, (int)doc["tasks"]!);
        Assert.Equal(["classifier-selection", "text-to-rows"], doc["methods"]!.AsObject().Select(p => p.Key));
        Assert.StartsWith("text-to-rows: ridge map from test-hash-16d to rows, fitted on 100 classes' names;", Assert.Single(random.Notes));
        Assert.Equal(random.Notes, environment.Noted);
        Assert.Equal(["p-Acc random classifier-selection", "p-Acc random text-to-rows"], environment.Stages);
        Assert.Equal(["random (3)", "classifier-selection"], random.Tables()[0].Rows[0].Take(2));

        var lists = Path.Combine(artifacts, "lists.txt");
        File.WriteAllText(lists, "# two lists\napple, bear\nbicycle; apple; bear\n");
        var byList = new Evaluator(environment).Run(small with { Methods = ["generic"], PromptsFile = lists });
        var table = Assert.Single(byList.Tables());
        Assert.Equal(["#", "class list", "generic"], table.Columns.Select(c => c.Name));
        Assert.Equal(["", "mean over 2 lists"], table.Rows[^1].Take(2));
        Assert.Equal(2, byList.ToJson()["methods"]!["generic"]!["perPrompt"]!.AsArray().Count);
        Assert.Equal(Path.GetFullPath(lists), (string)byList.ToJson()["taskSource"]!);
        Assert.Empty(byList.Verdicts());
    }

    /// <summary>Opens the tests' hash text encoder and records the stages and notes it is shown.</summary>
    private sealed class RecordingEnvironment(string artifacts) : EvaluationEnvironment(artifacts, TestData.DataDir)
    {
        public List<string> Stages { get; } = [];

        public List<string> Noted { get; } = [];

        public override global::Tina.Text.ITextEncoder OpenTextEncoder() => new HashTextEncoder();

        public override T Stage<T>(string title, Func<IProgress<double>?, T> work)
        {
            Stages.Add(title);
            return base.Stage(title, work);
        }

        public override void Note(string line) => Noted.Add(line);
    }

    [Fact]
    public void MethodsResolveByNameWithEnsemblesAndSplicesAfterTheRest()
    {
        var methods = Checker.Check(new EvaluationOptions { Methods = ["TINA", "generic", "tina-ddpm-ens4"], Ensemble = 3, Splices = ["tina/classifier-selection"], Generator = "ckpt" });
        Assert.Equal(["tina-ens3", "generic", "tina-ddpm-ens4", "body:tina+classifier:classifier-selection"], methods.Select(m => m.Name));
        var registry = EvaluationMethodRegistry.CreateDefault();
        Assert.Equal("tina-ens16", registry.Resolve("tina-ens16")!.Name);
        foreach (var bad in new[] { "tina-ens1", "tina-ens17", "tina-ens04", "tina-ens", "tinas", "body:tina+classifier:tina", "body:finetune+classifier:generic" })
            Assert.Null(registry.Resolve(bad));
        Assert.Equal("the fine-tuned p-Models", registry.Resolve("body:finetune+classifier:tina")!.NeedsZoo);
        Assert.True(registry.Resolve("finetune")!.ReadsFineTunedModels);

        // A method of your own, by name.
        registry.Register("always-first", () => new PersonalizationEvaluationMethod("always-first", _ => new AlwaysFirst()));
        Assert.IsType<PersonalizationEvaluationMethod>(new Evaluator(new EvaluationEnvironment(Path.GetTempPath()), registry).Check(new EvaluationOptions { Methods = ["always-first"] }).Single());
    }

    [Theory]
    [InlineData("Unknown method(s): foo. Known: generic, classifier-selection, finetune, taper-mixer, text-to-rows, tina, tina-ddpm, tina-ensK, tina-ddpm-ensK, body:BODY+classifier:CLASSIFIER.", "foo")]
    [InlineData("--methods finetune needs --zoo DIR (the fine-tuned p-Models).", "finetune")]
    [InlineData("--methods body:finetune+classifier:tina needs --zoo DIR (the fine-tuned p-Models).", "body:finetune+classifier:tina")]
    [InlineData("Give the Tina checkpoint folder: --generator DIR", "tina")]
    public void BadOptionsAreRefusedBeforeAnythingIsOpened(string expected, string methods)
    {
        var e = Assert.Throws<TinaException>(() => Checker.Run(new EvaluationOptions { Dataset = "no-such-dataset", Methods = methods.Split(',') }));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void AZoosOodTasksAreGroupedByUnseenShareOrByHomeDataset()
    {
        var manifest = global::Tina.Zoo.ZooManifest.Load(GenerationFixture.ZooDir);
        int ood = global::Tina.Zoo.FineTunedMethod.Tasks(manifest, "ood").Count;
        Assert.True(ood >= 2);
        // Held-out classes: one group per share of unseen classes, smallest first; every OOD task in one of them.
        var unseen = manifest with
        {
            UnseenClasses = [0],
            Tasks = manifest.Tasks.Select(t => t.Split == "ood" ? t with { UnseenRatio = t.Index % 2 == 0 ? 0.5 : 0.2 } : t).ToList(),
        };
        var groups = EvaluationGroup.OfZoo(unseen, Fixtures.Cifar);
        Assert.Equal("ID", groups[0].Label);
        Assert.Equal(ood, groups.Skip(1).Sum(g => g.Tasks.Count));
        Assert.Equal(new[] { "ood-unseen-20", "ood-unseen-50" }.Where(k => groups.Any(g => g.JsonKey == k)), groups.Skip(1).Select(g => g.JsonKey));
        Assert.Equal(2, EvaluationGroup.OfZoo(unseen, Fixtures.Cifar, maxTasks: 2)[0].Tasks.Count);

        // One vocabulary: the lists of each home dataset's classes, then those that mix datasets.
        var cifar = Fixtures.Cifar;
        var merged = new global::Tina.Data.ImageDataset(cifar.Name, cifar.ClassNames, cifar.Train, cifar.Test)
        {
            ClassSources = Enumerable.Range(0, cifar.NumClasses).Select(c => (IReadOnlyList<string>)[c < 6 ? "cifar100" : "caltech101"]).ToList(),
        };
        groups = EvaluationGroup.OfZoo(manifest, merged);
        Assert.Equal(ood, groups.Skip(1).Sum(g => g.Tasks.Count));
        Assert.Equal(new[] { "OOD cifar100", "OOD caltech101", "OOD mixed" }.Where(l => groups.Any(g => g.Label == l)), groups.Skip(1).Select(g => g.Label));
        Assert.All(groups.Single(g => g.Label == "OOD mixed").Tasks, t => Assert.True(t.Classes.Any(c => c < 6) && t.Classes.Any(c => c >= 6)));

        // Both: a one-vocabulary zoo with held-out classes is seen by unseen share, then by home dataset (two views of
        // the same lists, so each OOD task is counted twice).
        groups = EvaluationGroup.OfZoo(unseen, merged);
        var keys = groups.Skip(1).Select(g => g.JsonKey).ToList();
        Assert.Equal(new[] { "ood-unseen-20", "ood-unseen-50" }.Where(k => keys.Contains(k)), keys.TakeWhile(k => k.StartsWith("ood-unseen-", StringComparison.Ordinal)));
        Assert.Contains("ood-mixed", keys);
        Assert.Equal(2 * ood, groups.Skip(1).Sum(g => g.Tasks.Count));
    }

    [Theory]
    [InlineData("ID", "id")]
    [InlineData("OOD", "ood")]
    [InlineData("OOD 20% unseen", "ood-unseen-20")]
    [InlineData("OOD cifar100", "ood-cifar100")]
    [InlineData("OOD mixed", "ood-mixed")]
    [InlineData("random", "random")]
    public void GroupsKeepTheirJsonKeys(string label, string key) => Assert.Equal(key, new EvaluationGroup(label, []).JsonKey);

    private sealed class AlwaysFirst : global::Tina.Evaluation.IPersonalizationMethod
    {
        public string Name => "always-first";
        public int[] Predict(global::Tina.Tasks.PersonalizationTask task, global::Tina.Data.ImageSet test, int[] indices) => new int[indices.Length];
    }
}
