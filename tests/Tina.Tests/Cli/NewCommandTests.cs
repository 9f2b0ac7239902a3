using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using Tina.MLNet;
using Tina.MLNet.Generation;
using Tina.Tests.MLNet;
using Tina.Tests.Generation;

namespace Tina.Tests.Cli;

/// <summary>
/// <c>tina new</c> through the real executable: the files it writes, regeneration from the spec, bad input, and the
/// generated console app and Web API built with <c>dotnet build</c> and run on real CIFAR-100 test images.
/// </summary>
public class NewCommandTests
{
    private static readonly string[] Classes = ["apple", "bear", "bicycle"];

    private static (int Code, string Output) Tina(params string[] args) => TinaProcess.Run(TestData.TempDir(), args);

    [Fact]
    public void WritesTheProjectsAndRegeneratesTheSameModelFromTheSpec()
    {
        var ckpt = GenerationFixture.CheckpointDir;
        var outDir = TestData.TempDir();
        var (code, output) = Tina("new", "--name", "Things", "--classes", "apple; bear; bicycle", "--generator", ckpt, "--seed", "4", "--webapi", "--out", outDir);
        Assert.True(code == 0, output);
        var project = Path.Combine(outDir, "Things");
        foreach (var f in new[] { "Things.csproj", "Things.consumption.cs", "Program.cs", "Things.mlnet", "Things.tina.json" })
            Assert.True(File.Exists(Path.Combine(project, f)), $"{f} missing; wrote: {string.Join(", ", Directory.GetFiles(project))}");
        Assert.True(File.Exists(Path.Combine(outDir, "Things.WebApi", "Things.WebApi.csproj")));
        Assert.Empty(Directory.GetDirectories(outDir, ".*"));

        // The model is the generator's, labels in prompt order; the spec names everything needed to make it again.
        var mlnet = Path.Combine(project, "Things.mlnet");
        var info = TinaMLNetModel.ReadEmbeddedModelInfo(mlnet)!;
        Assert.Equal(Classes, info.Labels);
        Assert.Equal("tina ddim-50 seed 4 ema", info.Method);
        using (var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(project, "Things.tina.json"))))
        {
            Assert.Equal("tina-project", spec.RootElement.GetProperty("format").GetString());
            Assert.Equal(Classes, spec.RootElement.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(4, spec.RootElement.GetProperty("seed").GetInt64());
            Assert.StartsWith("sha256:", spec.RootElement.GetProperty("generatorId").GetString());
        }
        var consumption = File.ReadAllText(Path.Combine(project, "Things.consumption.cs"));
        Assert.Contains("public static IReadOnlyList<string> Labels { get; } = [\"apple\", \"bear\", \"bicycle\"];", consumption);

        // --from regenerates the same classifier, byte for byte (the ONNX model inside the ML.NET zip).
        var again = TestData.TempDir();
        (code, output) = Tina("new", "--from", Path.Combine(project, "Things.tina.json"), "--out", again);
        Assert.True(code == 0, output);
        Assert.Contains("Regenerated the same model", output);
        Assert.Equal(TinaMLNetModel.ReadEmbeddedModel(mlnet)!.Value.Onnx, TinaMLNetModel.ReadEmbeddedModel(Path.Combine(again, "Things", "Things.mlnet"))!.Value.Onnx);

        // An existing project is not overwritten without --force; with it, it is.
        (code, output) = Tina("new", "--name", "Things", "--classes", "apple, bear", "--generator", ckpt, "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("--force", output);
        Assert.Equal(Classes, TinaMLNetModel.ReadEmbeddedModelInfo(mlnet)!.Labels);
        (code, output) = Tina("new", "--name", "Things", "--classes", "apple, bear", "--generator", ckpt, "--out", outDir, "--force");
        Assert.True(code == 0, output);
        Assert.Equal(["apple", "bear"], TinaMLNetModel.ReadEmbeddedModelInfo(mlnet)!.Labels);
    }

    [Theory]
    [InlineData("9Lives", "apple, bear", "cannot name a C# project")]
    [InlineData("my-app", "apple, bear", "cannot name a C# project")]
    [InlineData("class", "apple, bear", "cannot name a C# project")]
    [InlineData("Ok", "apple, APPLE", "apple")]
    [InlineData("Ok", " , ;", "class list is empty")]
    public void BadNamesAndPromptsFailWithOneLineAndWriteNothing(string name, string classes, string expected)
    {
        var outDir = TestData.TempDir();
        var (code, output) = Tina("new", "--name", name, "--classes", classes, "--generator", GenerationFixture.CheckpointDir, "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains(expected, output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outDir));
    }

    [Fact]
    public async Task GeneratedConsoleAppAndWebApiBuildAndClassifyRealImages()
    {
        var outDir = TestData.TempDir();
        var (code, output) = Tina("new", "--name", "Things", "--classes", string.Join(",", Classes), "--generator", GenerationFixture.CheckpointDir, "--webapi", "--out", outDir);
        Assert.True(code == 0, output);

        // Real CIFAR-100 test images of the three classes, and what the library predicts for them.
        var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 3);
        var images = new List<string>();
        for (int i = 0; i < data.Test.Count; i++)
        {
            var name = data.ClassNames[data.Test.Labels[i]];
            if (!Classes.Contains(name)) continue;
            var file = Path.Combine(outDir, $"{name}_{i}.png");
            global::Tina.Data.PngWriter.Write(file, data.Test.Image(i));
            images.Add(file);
        }
        Assert.Equal(9, images.Count);
        // Large photos (a 3000×2000 camera-sized JPEG, a 1:4 portrait) made from real test images, and a bomb: a
        // 30,000 × 30,000 PNG of a few hundred bytes.
        var bicycle = data.Test.Image(data.Test.IndicesOf(new HashSet<int> { data.ClassNames.ToList().IndexOf("bicycle") })[0]).ToArray();
        var photos = new[] { ("big.jpg", TestPhotos.Upscaled(bicycle, 3000, 2000)), ("tall.jpg", TestPhotos.Upscaled(bicycle, 600, 2400, seed: 4)) }
            .Select(p => { var path = Path.Combine(outDir, p.Item1); File.WriteAllBytes(path, p.Item2); return path; }).ToList();
        var bomb = Path.Combine(outDir, "bomb.png");
        File.WriteAllBytes(bomb, TestPhotos.PngBomb(30000, 30000));
        var onnx = TinaMLNetModel.ReadEmbeddedModel(Path.Combine(outDir, "Things", "Things.mlnet"))!.Value.Onnx;
        using var predictor = TinaPredictor.FromOnnx(onnx);
        var expected = images.Concat(photos).ToDictionary(f => f, f => predictor.Predict(f).Label);

        var app = Build(Path.Combine(outDir, "Things"), "Things");
        var (appCode, appOutput) = Run(app, [.. images, .. photos]);
        Assert.True(appCode == 0, appOutput);
        foreach (var f in images.Concat(photos)) Assert.Contains($"{f}: {expected[f]} (", appOutput);
        var watch = Stopwatch.StartNew();
        (appCode, appOutput) = Run(app, [bomb]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"the console app took {watch.Elapsed} to refuse the bomb");
        Assert.Equal(2, appCode);
        Assert.Contains($"{bomb}: The image declares 30000x30000 pixels, over the limit of 40000000 pixels", appOutput);
        (appCode, appOutput) = Run(app, [Path.Combine(outDir, "Things", "Things.csproj")]);
        Assert.Equal(2, appCode);
        Assert.Contains("Not a readable image", appOutput);

        var web = Build(Path.Combine(outDir, "Things.WebApi"), "Things.WebApi");
        int port = 20000 + Environment.ProcessId % 20000;
        var serverLog = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var server = Process.Start(new ProcessStartInfo("dotnet", [web, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        server.OutputDataReceived += (_, e) => { if (e.Data is { } line) serverLog.Enqueue(line); };
        server.ErrorDataReceived += (_, e) => { if (e.Data is { } line) serverLog.Enqueue(line); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    await http.GetStringAsync("/");
                    break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !server.HasExited)
                {
                    await Task.Delay(250);
                }
            }
            var first = images[0];
            var response = await http.PostAsync("/predict", new ByteArrayContent(File.ReadAllBytes(first)));
            Assert.True(response.IsSuccessStatusCode, response.ToString());
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(expected[first], json.RootElement.GetProperty("predictedLabel").GetString());
            Assert.Equal(3, json.RootElement.GetProperty("scores").GetArrayLength());
            var bad = await http.PostAsync("/predict", new ByteArrayContent("not an image"u8.ToArray()));
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);

            // What an HTML form sends (multipart/form-data): the same answer as the raw body.
            using (var form = new MultipartFormDataContent())
            {
                form.Add(new ByteArrayContent(File.ReadAllBytes(first)), "image", Path.GetFileName(first));
                var uploaded = await http.PostAsync("/predict", form);
                Assert.True(uploaded.IsSuccessStatusCode, $"{uploaded.StatusCode}: {await uploaded.Content.ReadAsStringAsync()}");
                using var formJson = JsonDocument.Parse(await uploaded.Content.ReadAsStringAsync());
                Assert.Equal(expected[first], formJson.RootElement.GetProperty("predictedLabel").GetString());
            }
            using (var empty = new MultipartFormDataContent { { new StringContent("x"), "note" } })
                Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.PostAsync("/predict", empty)).StatusCode);
            // Requests are not logged at Information.
            Assert.DoesNotContain(serverLog, line => line.Contains("Request starting", StringComparison.Ordinal) || line.Contains("Request finished", StringComparison.Ordinal));

            // A camera-sized photo (megabytes: over the 64 KB of tina serve's JSON endpoint) is classified like the library does.
            foreach (var photo in photos)
            {
                var answer = await http.PostAsync("/predict", new ByteArrayContent(File.ReadAllBytes(photo)));
                Assert.True(answer.IsSuccessStatusCode, $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                using var photoJson = JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
                Assert.Equal(expected[photo], photoJson.RootElement.GetProperty("predictedLabel").GetString());
            }
            // A bomb, and a body over the limit (the client waits for "100 Continue", as curl does for large bodies): 413 problem details.
            watch.Restart();
            var bombAnswer = await http.PostAsync("/predict", new ByteArrayContent(File.ReadAllBytes(bomb)));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the Web API took {watch.Elapsed} to refuse the bomb");
            Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, bombAnswer.StatusCode);
            Assert.Equal("application/problem+json", bombAnswer.Content.Headers.ContentType?.MediaType);
            Assert.Contains("over the limit of 40000000 pixels", await bombAnswer.Content.ReadAsStringAsync());
            using var hugeRequest = new HttpRequestMessage(HttpMethod.Post, "/predict") { Content = new ByteArrayContent(new byte[21 * 1024 * 1024]) };
            hugeRequest.Headers.ExpectContinue = true;
            var huge = await http.SendAsync(hugeRequest);
            Assert.Equal(System.Net.HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
            Assert.Contains("over the limit of 20971520 bytes", await huge.Content.ReadAsStringAsync());
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    [Fact]
    public void AResNet18ProjectWithTheHeadAloneBuildsAndClassifiesPhotosLikeTheOneFileClassifier()
    {
        var outDir = TestData.TempDir();
        string[] classes = [.. ResNet18GenerationFixture.Data.ClassNames.Take(3)];
        var (code, output) = Tina("new", "--name", "Photos", "--classes", string.Join(", ", classes), "--generator", ResNet18GenerationFixture.CheckpointDir,
            "--format", "head", "--seed", "1", "--out", outDir);
        Assert.True(code == 0, output);
        var mlnet = Path.Combine(outDir, "Photos", "Photos.mlnet");
        var headInfo = TinaMLNetModel.ReadEmbeddedModelInfo(mlnet)!;
        Assert.True(headInfo.HeadOnly);
        Assert.Equal(classes, headInfo.Labels);
        using (var spec = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "Photos", "Photos.tina.json"))))
            Assert.Equal("head", spec.RootElement.GetProperty("classifierFormat").GetString());
        // The zip carries ML.NET's ResNet-18 itself (the app needs no DnnImageModels folder).
        Assert.True(new FileInfo(mlnet).Length > 40_000_000, $"{mlnet} is {new FileInfo(mlnet).Length} bytes");

        // The one-file classifier of the same prompt and seed, as the reference.
        using var gen = global::Tina.Generation.TinaGenerator.Load(ResNet18GenerationFixture.CheckpointDir);
        var whole = TinaGeneratedClassifier.Generate(gen, classes, new global::Tina.Generation.GenerateOptions { Seed = 1 }).Onnx;
        using var predictor = TinaPredictor.FromOnnx(whole);
        var photos = ResNet18Fixture.Instance.Files.Select(f => f.Path).ToList();
        var app = Build(Path.Combine(outDir, "Photos"), "Photos");
        var (appCode, appOutput) = Run(app, photos);
        Assert.True(appCode == 0, appOutput);
        foreach (var f in photos) Assert.Contains($"{f}: {predictor.Predict(f).Label} (", appOutput);
    }

    /// <summary>Builds a generated project (Release, outside this repository) and returns its main assembly.</summary>
    private static string Build(string projectDir, string name)
    {
        var (code, output) = Dotnet(projectDir, ["build", "-c", "Release", "-nologo", "-v", "q", "-p:UseSharedCompilation=false"]);
        Assert.True(code == 0, $"dotnet build {projectDir} failed:\n{output}");
        var dll = Path.Combine(projectDir, "bin", "Release", "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), dll);
        return dll;
    }

    private static (int Code, string Output) Run(string dll, IEnumerable<string> args) => Dotnet(Path.GetDirectoryName(dll)!, [dll, .. args]);

    private static (int Code, string Output) Dotnet(string workDir, IEnumerable<string> args) => TinaProcess.Dotnet(workDir, args);
}
