using Microsoft.ML;
using Tina.Generation;
using Tina.MLNet;
using Tina.MLNet.Generation;
using Tina.Tests.Generation;

namespace Tina.Tests.MLNet;

/// <summary>The generation path's async calls: the same bytes as the synchronous ones, and a cancelled token stops them.</summary>
public class AsyncGenerationTests
{
    [Fact]
    public async Task GenerateAsyncGivesTheSyncBytesAndHonoursCancellation()
    {
        using var generator = TinaGenerator.Load(GenerationFixture.CheckpointDir, new HashTextEncoder());
        string[] classes = ["apple", "bear", "bicycle"];
        var options = new GenerateOptions { Seed = 3, Steps = 5 };
        // Generation runs on a thread-pool thread; libtorch's thread count is per thread, and the generator applies the process's.
        Tina.Runtime.TorchRuntime.UseOnThisThread();
        var sync = TinaGeneratedClassifier.Generate(generator, classes, options).Onnx;
        var viaTask = await TinaGeneratedClassifier.GenerateAsync(generator, classes, options);
        Assert.Equal(sync, viaTask.Onnx);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TinaGeneratedClassifier.GenerateAsync(generator, classes, options, cancellationToken: new CancellationToken(canceled: true)));

        // Cancelled while sampling: stopped between two steps of a long DDPM run.
        using var soon = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            TinaGeneratedClassifier.GenerateAsync(generator, classes, new GenerateOptions { Sampler = Tina.Diffusion.DiffusionSampler.Ddpm, Steps = 1000, Seed = 1 }, cancellationToken: soon.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"cancellation took {watch.Elapsed}");
    }

    [Fact]
    public async Task FitAsyncBuildsTheSameChainAndRetriesAfterACancellation()
    {
        var ml = new MLContext(seed: 0);
        var estimator = ml.Transforms.TinaGenerate(new TinaGenerateOptions
        {
            GeneratorPath = GenerationFixture.CheckpointDir, TextEncoder = new HashTextEncoder(), Prompt = "apple, bear, bicycle", Seed = 2, Steps = 5,
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => estimator.FitAsync(TinaMLNetModel.EmptyInput(ml), new CancellationToken(canceled: true)));
        using var model = await estimator.FitAsync(TinaMLNetModel.EmptyInput(ml));
        var generated = await estimator.GenerateAsync();
        Assert.Same(generated, estimator.Generated);
        Assert.Equal(["apple", "bear", "bicycle"], generated.Labels);
    }
}
