using Tina.Generic;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Zoo;

namespace Tina.Tests.Zoo;

/// <summary>A zoo build killed (SIGKILL) in its own process resumes, in a new process, to the bytes of a straight build.</summary>
public class ZooResumeAcrossProcessesTests
{
    [Fact]
    public void AKilledZooBuildResumesInANewProcessToTheSameBytes()
    {
        var artifacts = TestData.TempDir();
        var data = Fixtures.Cifar;
        var network = PModelNetwork.Create(PModelArch.Cnn5k, data.NumClasses, seed: 21);
        using (var generic = new GenericModel(network, new GenericModelCard
               { Arch = "cnn5k", Dataset = data.Name, Classes = data.ClassNames, Epochs = 0, TestAccuracy = 0, Seed = 21, Optimizer = "none" }))
            generic.Save(GenericModel.DefaultPath(artifacts, data.Name, PModelArch.Cnn5k));
        string[] Args(string dir) => ["zoo", "build", "--arch", "cnn5k", "--tasks", "8", "--ood", "0", "--classes", "2-4", "--epochs", "2", "--group", "2", "--out", dir];

        var straight = Path.Combine(artifacts, "straight");
        var (code, output) = TinaProcess.Run(artifacts, Args(straight));
        Assert.True(code == 0, output);

        var killed = Path.Combine(artifacts, "killed");
        using (var p = TinaProcess.Start(artifacts, Args(killed)))
        {
            var manifest = Path.Combine(killed, ZooManifest.FileName);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (!p.HasExited && DateTime.UtcNow < deadline && !(File.Exists(manifest) && ShardCount(killed) >= 1)) Thread.Sleep(20);
            Assert.False(p.HasExited, "the build finished before it could be killed");
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }
        int before = ShardCount(killed);
        Assert.InRange(before, 1, 3);

        (code, output) = TinaProcess.Run(artifacts, Args(killed));
        Assert.True(code == 0, output);
        var a = ZooManifest.Load(straight);
        var b = ZooManifest.Load(killed);
        Assert.Equal(4, b.Shards.Count);
        Assert.Equal(a.Tasks.Select(t => string.Join(",", t.Classes)), b.Tasks.Select(t => string.Join(",", t.Classes)));
        foreach (var (x, y) in a.Shards.Zip(b.Shards))
        {
            Assert.Equal(x.File, y.File);
            Assert.Equal(File.ReadAllBytes(Path.Combine(straight, x.File)), File.ReadAllBytes(Path.Combine(killed, y.File)));
        }
    }

    private static int ShardCount(string dir)
    {
        try { return ZooManifest.Load(dir).Shards.Count; }
        catch (Exception e) when (e is IOException or CorruptFileException) { return 0; }
    }
}
