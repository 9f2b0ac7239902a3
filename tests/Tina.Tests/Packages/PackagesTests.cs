using System.Diagnostics;
using Tina.MLNet;
using Tina.Tests.Generation;
using Tina.Tests.MLNet;

namespace Tina.Tests.Packages;

/// <summary>
/// The NuGet packages, as a user meets them: packed from this build into a local folder feed, then installed into
/// fresh projects in a temporary folder (outside this repository, so none of its build files apply). One app only
/// predicts (Tina.MLNet: no TorchSharp in its output); one generates with <c>TinaGenerate</c>, saves, reloads and
/// predicts (Tina.MLNet.Generation: TorchSharp loads on Debian 12 through the fix the core package carries).
/// </summary>
public class PackagesTests
{
    [Fact]
    public void InferenceAndGenerationAppsInstallFromALocalFeedAndRun()
    {
        var f = ThreeClassFixture.Instance;
        var work = TestData.TempDir();
        var feed = Path.Combine(work, "feed");
        // A version of its own per run: NuGet caches packages by id and version in the user's global folder.
        var version = $"0.9.0-test{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var cached = new[] { "tina.mlnet", "tina.mlnet.core", "tina.mlnet.generation" }
            .Select(id => Path.Combine(GlobalPackagesFolder(), id, version)).ToArray();
        try
        {
            foreach (var project in new[] { "Tina.MLNet", "Tina", "Tina.MLNet.Generation" })
            {
                var (code, output) = Dotnet(TestData.RepoRoot, ["pack", Path.Combine("src", project), "-c", "Release", "--no-build", "-o", feed, $"-p:PackageVersion={version}", "-nologo", "-v", "q"]);
                Assert.True(code == 0, $"dotnet pack {project} failed:\n{output}");
            }
            Assert.Equal(3, Directory.GetFiles(feed, "*.nupkg").Length);
            Assert.Equal(3, Directory.GetFiles(feed, "*.snupkg").Length);

            var image = Path.Combine(f.ImageDir, f.FileNames[0]);
            var onnx = Path.Combine(work, "model.onnx");
            File.WriteAllBytes(onnx, f.Onnx);
            using var predictor = TinaPredictor.FromOnnx(f.Onnx);
            var expected = predictor.Predict(image).Label;

            // 1. Inference only: load the exported ONNX, predict a real image; no libtorch anywhere in the output.
            var infer = App(work, "InferApp", feed, "Tina.MLNet", version, """
                using Tina.MLNet;
                using var predictor = TinaPredictor.Load(args[0]);
                Console.WriteLine("label=" + predictor.Predict(File.ReadAllBytes(args[1])).Label);
                """);
            var (runCode, runOutput) = Dotnet(work, [infer, onnx, image]);
            Assert.True(runCode == 0, runOutput);
            Assert.Contains($"label={expected}", runOutput);
            var inferDir = Path.GetDirectoryName(infer)!;
            Assert.Empty(Directory.GetFiles(inferDir, "*torch*", SearchOption.AllDirectories));
            Assert.Empty(Directory.GetFiles(inferDir, "TorchSharp*", SearchOption.AllDirectories));

            // 2. Generation: TinaGenerate from a checkpoint, save, reload in a fresh context, predict through ML.NET.
            var generate = App(work, "GenerateApp", feed, "Tina.MLNet.Generation", version, """
                using Microsoft.ML;
                using Tina.MLNet;
                var ml = new MLContext(seed: 0);
                var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = args[0], Prompt = "apple, bear, bicycle" })
                    .Fit(TinaMLNetModel.EmptyInput(ml));
                TinaMLNetModel.Save(ml, model, "generated.zip");
                var fresh = new MLContext();
                var loaded = fresh.Model.Load("generated.zip", out _);
                var engine = fresh.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
                var p = engine.Predict(new TinaImageInput { ImagePath = args[1] });
                Console.WriteLine("label=" + p.Label + " scores=" + p.Score.Length);
                """, runtimeIdentifier: "linux-x64");
            (runCode, runOutput) = Dotnet(work, [generate, GenerationFixture.CheckpointDir, image]);
            Assert.True(runCode == 0, runOutput);
            Assert.Matches("label=(apple|bear|bicycle) scores=3", runOutput);
            var targets = File.ReadAllText(Directory.GetFiles(Path.Combine(work, "GenerateApp", "obj"), "*.nuget.g.targets").Single());
            Assert.Contains("Tina.MLNet.Core.targets", targets);
        }
        finally
        {
            foreach (var dir in cached.Where(Directory.Exists)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Writes and builds a console app that references <paramref name="package"/> from <paramref name="feed"/>; returns its main assembly.</summary>
    private static string App(string work, string name, string feed, string package, string version, string program, string? runtimeIdentifier = null)
    {
        var dir = Path.Combine(work, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        File.WriteAllText(Path.Combine(dir, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                {(runtimeIdentifier is null ? "" : $"<RuntimeIdentifier>{runtimeIdentifier}</RuntimeIdentifier><SelfContained>false</SelfContained>")}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        // The local feed beside the machine's own sources (not <clear/>: ML.NET, ONNX Runtime and TorchSharp come from there).
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="tina-local" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        var (code, output) = Dotnet(dir, ["build", "-c", "Release", "-nologo", "-v", "q", "-p:UseSharedCompilation=false"]);
        Assert.True(code == 0, $"dotnet build {name} failed:\n{output}");
        var dll = Directory.GetFiles(Path.Combine(dir, "bin", "Release"), $"{name}.dll", SearchOption.AllDirectories).Single();
        return dll;
    }

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static (int Code, string Output) Dotnet(string workDir, IEnumerable<string> args) => TinaProcess.Dotnet(workDir, args);
}
