using Tina.Diffusion;
using Tina.Generation;
using Tina.Generic;
using Tina.IO;
using Tina.PModels;
using Tina.Tasks;
using Tina.Zoo;
using Xunit;

namespace Tina.Tests.Generation;

/// <summary>Generators trained relative to classifier selection (<see cref="GenerationBase.ClassifierSelection"/>).</summary>
public class RelativeGenerationTests
{
    [Theory]
    [InlineData(PModelArch.Cnn5k)]
    [InlineData(PModelArch.ResNet20)]
    public void TheBaseOfATaskIsItsClassifierSelectionPModel(PModelArch arch)
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 2, testPerClass: 1);
        using var generic = Fixtures.UntrainedGeneric(data, arch, seed: 3);
        using var encoder = new HashTextEncoder();
        var start = SelectionBase.FromGeneric(generic, names => encoder.Encode(names));
        var padding = new SequencePadding(arch, 6);
        var task = new PersonalizationTask([7, 0, 11, 4], [.. new[] { 7, 0, 11, 4 }.Select(c => data.ClassNames[c])]);

        var padded = new float[padding.Layout.Count];
        start.AddTo(padded, padding, task.Classes);

        Assert.Equal(ClassifierSelection.Create(generic, task).Parameters, padding.Unpad(padded, task.Count));
        // The two padded slots stay empty.
        var w = padding.Layout["fc.weight"];
        Assert.All(padded.AsSpan(w.Offset + 4 * padding.Layout.FeatureDim, 2 * padding.Layout.FeatureDim).ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(0f, padded[padding.Layout["fc.bias"].Offset + 5]);
    }

    [Fact]
    public void AClassStartsFromTheGenericClassOfItsNameElseFromTheNearestEmbedding()
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 2, testPerClass: 1);
        using var generic = Fixtures.UntrainedGeneric(data, PModelArch.Cnn5k, seed: 3);
        using var encoder = new HashTextEncoder();
        var start = SelectionBase.FromGeneric(generic, names => encoder.Encode(names));
        var name = data.ClassNames[5];
        var unrelated = encoder.Encode(["kitten"])[0];

        // A name the generic model has wins over any vector, in any case and with spaces for underscores.
        Assert.Equal(5, start.Resolve(name.ToUpperInvariant().Replace('_', ' '), unrelated));
        // Another name starts from the class whose embedding is nearest to its vector.
        var nearEight = encoder.Encode([data.ClassNames[8]])[0].Select((v, i) => v + 0.1f * unrelated[i]).ToArray();
        Assert.Equal(8, start.Resolve("kitten", nearEight));
        Assert.Throws<TinaException>(() => start.IndexOf("kitten"));
    }

    [Fact]
    public void AGeneratorRelativeToClassifierSelectionAddsItsSampleToThePromptsClassifierSelectionPModel()
    {
        var (checkpoint, selections, names) = RelativeFixture.Value;
        // The checkpoint carries the base: the generic model's file is gone.
        using var generator = TinaGenerator.Load(checkpoint, new HashTextEncoder());
        Assert.Equal(GenerationBase.ClassifierSelection, generator.RelativeTo);
        Assert.Equal(names, generator.State.BaseClasses);

        var prompt = new[] { names[3], names[9], names[1] };
        var generated = generator.Generate(prompt, new GenerateOptions { Seed = 1 });
        var selection = selections(prompt);
        // What fine-tuning added in one epoch is small: the generated p-Model stays near classifier selection, which a
        // generator that forgot to add its base (or added another class's rows) would not.
        Assert.InRange(Rms(Subtract(generated.Parameters, selection)), 0, 0.2 * Rms(selection));
        var layout = ParameterLayout.For(PModelArch.Cnn5k, 3);
        var rows = layout["fc.weight"];
        var swapped = selections([names[9], names[3], names[1]]);
        Assert.True(Rms(Subtract(generated.Parameters.AsSpan(rows.Offset, rows.Length), selection.AsSpan(rows.Offset, rows.Length)))
            < 0.5 * Rms(Subtract(generated.Parameters.AsSpan(rows.Offset, rows.Length), swapped.AsSpan(rows.Offset, rows.Length))));

        // A class the generic model does not have generates too (it starts from the nearest generic class).
        var unknown = generator.Generate([names[3], "kitten"], new GenerateOptions { Seed = 1 });
        Assert.Equal(["kitten"], unknown.Labels.Skip(1));
        Assert.All(unknown.Parameters, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void NeuronPermutationIsRefusedRelativeToClassifierSelection()
    {
        var e = Assert.Throws<TinaException>(() => new TinaTrainingOptions { RelativeTo = GenerationBase.ClassifierSelection, NeuronPermutation = true }.Validate());
        Assert.Contains("classifier selection", e.Message);
    }

    private static readonly Lazy<(string Checkpoint, Func<string[], float[]> Selections, string[] Names)> RelativeFixture = new(() =>
    {
        var data = Fixtures.CifarSubset(classes: 12, perClass: 32, testPerClass: 10);
        var root = TestData.TempDir();
        var genericPath = Path.Combine(root, "generic-cnn5k");
        var card = new GenericModelCard { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 13, Optimizer = "none" };
        var selections = new Dictionary<string, float[]>();
        using (var generic = new GenericModel(PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, seed: 13), card))
        {
            generic.Save(genericPath);
            new ZooBuilder(generic, genericPath, data, new ZooBuildOptions
            {
                TrainTasks = 8, OodTasks = 0, ClassesPerTask = 4, Seed = 6,
                FineTune = new FineTuneOptions { Epochs = 1, BatchSize = 16, ModelsPerGroup = 8 },
            }).Build(Path.Combine(root, "zoo"));
            // Classifier selection for the prompts the test asks for, computed before the generic model is deleted.
            foreach (var prompt in new[] { new[] { 3, 9, 1 }, [9, 3, 1] })
                selections[string.Join(",", prompt)] = ClassifierSelection.Create(generic, new PersonalizationTask(prompt, [.. prompt.Select(c => data.ClassNames[c])])).Parameters;
        }
        using var encoder = new HashTextEncoder();
        var dir = Path.Combine(root, "tina");
        new TinaTrainer(GenerationFixture.Options(2) with { Normalization = ParameterNormalization.PerTensor, LossWeighting = LossWeighting.PerTensor, RelativeTo = GenerationBase.ClassifierSelection }, encoder)
            .Train(Path.Combine(root, "zoo"), dir);
        File.Delete(genericPath + ".safetensors");
        var names = data.ClassNames.ToArray();
        return (dir, prompt => selections[string.Join(",", prompt.Select(n => Array.IndexOf(names, n)))], names);
    });

    private static float[] Subtract(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var d = new float[a.Length];
        for (int i = 0; i < d.Length; i++) d[i] = a[i] - b[i];
        return d;
    }

    private static double Rms(ReadOnlySpan<float> v)
    {
        double s = 0;
        foreach (var x in v) s += (double)x * x;
        return Math.Sqrt(s / v.Length);
    }
}
