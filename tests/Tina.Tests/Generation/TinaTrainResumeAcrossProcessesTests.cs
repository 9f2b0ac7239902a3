using Tina.Generation;
using Tina.Tests.Child;

namespace Tina.Tests.Generation;

/// <summary>
/// A Tina training killed (SIGKILL) in its own process resumes, in a new process, to the bytes of a straight run. The
/// time limits only stop a hung child: a loaded 2-core machine needs over two minutes for a 30-epoch run.
/// </summary>
public class TinaTrainResumeAcrossProcessesTests
{
    [Fact]
    public void AKilledTrainingResumesInANewProcessToTheSameBytes()
    {
        const int epochs = 30;
        var zoo = GenerationFixture.ZooDir;
        var threads = TorchSharp.torch.get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var root = TestData.TempDir();
        var straight = Path.Combine(root, "straight");
        var killed = Path.Combine(root, "killed");
        var run = ChildProgram.Run(TimeSpan.FromMinutes(10), "train", zoo, straight, $"{epochs}", threads);
        Assert.True(run.Code == 0, $"the child exited with {run.Code}: {run.Output}");

        using (var p = ChildProgram.Start("train", zoo, killed, $"{epochs}", threads))
        {
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (!p.HasExited && DateTime.UtcNow < deadline && !TinaCheckpoint.Exists(killed)) Thread.Sleep(5);
            Assert.False(p.HasExited, "the training finished before it could be killed");
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        int committed = TinaCheckpoint.Load(killed).Epoch;
        Assert.InRange(committed, 1, epochs - 1);

        run = ChildProgram.Run(TimeSpan.FromMinutes(10), "train", zoo, killed, $"{epochs}", threads);
        Assert.True(run.Code == 0, $"the child exited with {run.Code}: {run.Output}");
        var a = TinaCheckpoint.Load(straight);
        var b = TinaCheckpoint.Load(killed);
        Assert.Equal(epochs, b.Epoch);
        Assert.Equal(a.EpochLoss, b.EpochLoss);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, a.WeightsFile)), File.ReadAllBytes(Path.Combine(killed, b.WeightsFile)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, a.OptimizerFile)), File.ReadAllBytes(Path.Combine(killed, b.OptimizerFile)));
    }
}
