using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML;
using SkiaSharp;
using Tina.MLNet;
using Tina.MLNet.Generation;
using Tina.Tests.Generation;
using Tina.Tests.MLNet;

namespace Tina.Tests.Packages;

/// <summary>
/// The NuGet packages, as a user meets them: packed from this build into a local folder feed, then installed into
/// fresh .NET 8 projects in a temporary folder (outside this repository, so none of its build files apply). A console
/// app and an ASP.NET Core app run the README's own code (its two "In an app" blocks, taken from README.md): a
/// <c>byte[]</c> column saved and reloaded, async prediction with a cancelled token, <c>AddTinaPredictor</c>, a health
/// check, form uploads and raw bodies. A third app generates with <c>TinaGenerate</c> (TorchSharp loads on Debian 12
/// through the fix the core package carries).
/// </summary>
/// <remarks>
/// Only the .NET 10 runtime is installed on the test machine, so the .NET 8 apps are built self-contained for
/// linux-x64: the .NET 8 runtime (and ASP.NET Core 8) comes from the runtime packs on the NuGet feed, and each app
/// really runs on .NET 8 (it prints <see cref="Environment.Version"/>), with no roll-forward to .NET 10.
/// Set <c>TINA_PACKAGES_KEEP</c> to a folder to keep the feed and the projects (without bin/obj), e.g. to measure their
/// output sizes.
/// </remarks>
public partial class PackagesTests
{
    private const string Rid = "linux-x64";

    [Fact]
    public async Task Net8AppsMadeFromTheLocalFeedRunTheReadmesCode()
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
            var packages = Directory.GetFiles(feed, "*.nupkg");
            Assert.Equal(3, packages.Length);
            Assert.Equal(3, Directory.GetFiles(feed, "*.snupkg").Length);
            foreach (var package in packages)
            {
                using var zip = ZipFile.OpenRead(package);
                foreach (var tfm in new[] { "net8.0", "net10.0" })
                    Assert.Contains(zip.Entries, e => e.FullName.StartsWith($"lib/{tfm}/", StringComparison.Ordinal) && e.FullName.EndsWith(".dll", StringComparison.Ordinal));
            }

            // What the README's apps read: fruit.onnx / fruit.zip (a Tina model) and photo.jpg (a real JPEG).
            var png = File.ReadAllBytes(Path.Combine(f.ImageDir, f.FileNames[0]));
            byte[] jpeg;
            using (var bitmap = SKBitmap.Decode(png))
            using (var encoded = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95))
                jpeg = encoded.ToArray();
            string expected;
            using (var predictor = TinaPredictor.FromOnnx(f.Onnx))
                expected = predictor.Predict(jpeg).Label;
            var ml = new MLContext(seed: 0);
            var zipModel = Path.Combine(work, "fruit.zip");
            using (var chain = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = f.Onnx }).Fit(TinaMLNetModel.EmptyInput(ml)))
                TinaMLNetModel.Save(ml, chain, zipModel);

            var readme = File.ReadAllText(Path.Combine(TestData.RepoRoot, "README.md"));
            var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();
            string Block(string start) => blocks.SingleOrDefault(b => b.StartsWith(start, StringComparison.Ordinal))
                ?? throw new Xunit.Sdk.XunitException($"README.md has no C# block starting '{start}'.");

            // 1. A console app (.NET 8): the README's block, as is.
            var console = App(work, "ConsoleApp", feed, "Tina.MLNet", version, "Microsoft.NET.Sdk",
                "using Microsoft.ML;\nusing Tina.MLNet;\n\n" + Block("// A console app:") + "\nConsole.WriteLine(\"runtime=\" + Environment.Version);\n");
            File.WriteAllBytes(Path.Combine(console.Dir, "fruit.onnx"), f.Onnx);
            File.WriteAllBytes(Path.Combine(console.Dir, "photo.jpg"), jpeg);
            var (runCode, runOutput) = Run(console.Exe, console.Dir, []);
            Assert.True(runCode == 0, runOutput);
            Assert.Contains($"bytes: {expected}", runOutput);
            Assert.Contains($"async: {expected}", runOutput);
            Assert.Contains("cancelled: nothing was predicted", runOutput);
            Assert.Contains("runtime=8.0.", runOutput);
            Assert.Empty(Directory.GetFiles(console.Output, "*torch*", SearchOption.AllDirectories));
            Assert.Empty(Directory.GetFiles(console.Output, "TorchSharp*", SearchOption.AllDirectories));

            // 2. An ASP.NET Core app (.NET 8): the README's block, with the appsettings.json of `dotnet new web` plus the Tina section.
            var web = App(work, "WebApp", feed, "Tina.MLNet", version, "Microsoft.NET.Sdk.Web",
                "using Tina.MLNet;\nusing Tina.MLNet.Errors;\n\n" + Block("// An ASP.NET Core app:"));
            File.Copy(zipModel, Path.Combine(web.Dir, "fruit.zip"));
            File.WriteAllText(Path.Combine(web.Dir, "appsettings.json"), """
                {
                  "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore": "Warning" } },
                  "AllowedHosts": "*",
                  "Tina": { "ModelPath": "fruit.zip" }
                }
                """);
            await RunWebApp(web, expected, jpeg);

            // 3. Generation (.NET 8): TinaGenerate from a checkpoint, save, reload in a fresh context, predict through ML.NET.
            var generate = App(work, "GenerateApp", feed, "Tina.MLNet.Generation", version, "Microsoft.NET.Sdk", """
                using Microsoft.ML;
                using Tina.MLNet;
                using Tina.MLNet.Generation;
                var ml = new MLContext(seed: 0);
                var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = args[0], Prompt = "apple, bear, bicycle" })
                    .Fit(TinaMLNetModel.EmptyInput(ml));
                TinaMLNetModel.Save(ml, model, "generated.zip");
                var fresh = new MLContext();
                var loaded = fresh.Model.Load("generated.zip", out _);
                var engine = fresh.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
                var p = engine.Predict(new TinaImageInput { ImagePath = args[1] });
                Console.WriteLine("label=" + p.Label + " scores=" + p.Score.Length + " runtime=" + Environment.Version);
                """);
            (runCode, runOutput) = Run(generate.Exe, generate.Dir, [GenerationFixture.CheckpointDir, Path.Combine(f.ImageDir, f.FileNames[0])]);
            Assert.True(runCode == 0, runOutput);
            Assert.Matches("label=(apple|bear|bicycle) scores=3 runtime=8\\.0\\.", runOutput);
            var targets = File.ReadAllText(Directory.GetFiles(Path.Combine(generate.Dir, "obj"), "*.nuget.g.targets").Single());
            Assert.Contains("Tina.MLNet.Core.targets", targets);

            Keep(work);
        }
        finally
        {
            foreach (var dir in cached.Where(Directory.Exists)) Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Starts the web app, waits for its health check, and sends a form upload, a raw body and bytes that are not an image.</summary>
    private static async Task RunWebApp((string Dir, string Exe, string Output) web, string expected, byte[] jpeg)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var log = new ConcurrentQueue<string>();
        var psi = new ProcessStartInfo(web.Exe, ["--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = web.Dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var server = Process.Start(psi)!;
        server.OutputDataReceived += (_, e) => { if (e.Data is { } line) log.Enqueue(line); };
        server.ErrorDataReceived += (_, e) => { if (e.Data is { } line) log.Enqueue(line); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            HttpResponseMessage? health = null;
            while (health is null)
            {
                try
                {
                    health = await http.GetAsync("/healthz");
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !server.HasExited)
                {
                    await Task.Delay(250);
                }
                Assert.False(server.HasExited && health is null, "The web app exited:\n" + string.Join("\n", log));
            }
            Assert.True(health.StatusCode == HttpStatusCode.OK, $"{health.StatusCode} {await health.Content.ReadAsStringAsync()}\n{string.Join("\n", log)}");

            using (var form = new MultipartFormDataContent())
            {
                form.Add(new ByteArrayContent(jpeg), "image", "photo.jpg");
                var uploaded = await http.PostAsync("/predict", form);
                Assert.True(uploaded.IsSuccessStatusCode, $"{uploaded.StatusCode}: {await uploaded.Content.ReadAsStringAsync()}");
                Assert.Equal(expected, Label(await uploaded.Content.ReadAsStringAsync()));
            }
            var raw = await http.PostAsync("/predict", new ByteArrayContent(jpeg));
            Assert.True(raw.IsSuccessStatusCode, $"{raw.StatusCode}: {await raw.Content.ReadAsStringAsync()}");
            Assert.Equal(expected, Label(await raw.Content.ReadAsStringAsync()));
            var garbage = await http.PostAsync("/predict", new ByteArrayContent("not an image"u8.ToArray()));
            Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
            Assert.Contains("not a readable image", await garbage.Content.ReadAsStringAsync());
            Assert.Contains(log, line => line.Contains("Now listening on", StringComparison.Ordinal));
            Assert.DoesNotContain(log, line => line.Contains("Request starting", StringComparison.Ordinal));
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }
    }

    /// <summary>
    /// Writes and builds a .NET 8 app (self-contained for linux-x64: see the class remarks) that references
    /// <paramref name="package"/> from <paramref name="feed"/>; returns its folder, executable and output folder.
    /// </summary>
    private static (string Dir, string Exe, string Output) App(string work, string name, string feed, string package, string version, string sdk, string program)
    {
        var dir = Path.Combine(work, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        File.WriteAllText(Path.Combine(dir, $"{name}.csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net8.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <RuntimeIdentifier>{Rid}</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="{package}" Version="{version}" />
              </ItemGroup>
            </Project>
            """);
        // The local feed beside the machine's own sources (not <clear/>: ML.NET, ONNX Runtime, TorchSharp and the .NET 8
        // runtime packs come from there).
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
        var outputDir = Path.Combine(dir, "bin", "Release", "net8.0", Rid);
        var exe = Path.Combine(outputDir, name);
        Assert.True(File.Exists(exe), exe);
        return (dir, exe, outputDir);
    }

    /// <summary>Runs an app's executable in <paramref name="workDir"/>; output is stdout + stderr.</summary>
    private static (int Code, string Output) Run(string exe, string workDir, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }

    /// <summary>With <c>TINA_PACKAGES_KEEP</c> set, copies the feed and the projects (sources only) there.</summary>
    private static void Keep(string work)
    {
        if (Environment.GetEnvironmentVariable("TINA_PACKAGES_KEEP") is not { Length: > 0 } keep) return;
        foreach (var file in Directory.EnumerateFiles(work, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(work, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Contains("bin") || parts.Contains("obj")) continue;
            var target = Path.Combine(keep, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    private static string Label(string json) => JsonDocument.Parse(json).RootElement.GetProperty("label").GetString()!;

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static (int Code, string Output) Dotnet(string workDir, IEnumerable<string> args) => TinaProcess.Dotnet(workDir, args);

    [GeneratedRegex("```csharp\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
