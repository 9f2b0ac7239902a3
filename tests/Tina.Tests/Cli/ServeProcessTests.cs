using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Tina.Tests.Generation;

namespace Tina.Tests.Cli;

/// <summary>
/// <c>tina serve</c> as a process: a missing or corrupt generator fails at start-up with one line; a server killed
/// (SIGKILL) in the middle of a request restarts cleanly on the same port and serves the same bytes it served before.
/// </summary>
public class ServeProcessTests
{
    [Fact]
    public void ABadGeneratorFolderFailsAtStartUpWithOneLine()
    {
        var dir = TestData.TempDir();
        var (code, output) = TinaProcess.Run(dir, "serve", "--generator", Path.Combine(dir, "missing"), "--urls", "http://127.0.0.1:1");
        Assert.Equal(2, code);
        Assert.Contains("missing", output);
        Assert.DoesNotContain("   at ", output);

        var corrupt = Path.Combine(dir, "corrupt");
        Directory.CreateDirectory(corrupt);
        File.WriteAllText(Path.Combine(corrupt, "state.json"), "{ this is not a checkpoint");
        (code, output) = TinaProcess.Run(dir, "serve", "--generator", corrupt, "--urls", "http://127.0.0.1:1");
        Assert.Equal(2, code);
        Assert.Contains(corrupt, output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task AServerKilledMidRequestRestartsAndServesTheSameBytes()
    {
        var artifacts = TestData.TempDir();
        int port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        var first = new { classes = new[] { "apple", "bear" }, seed = 3 };

        byte[] before;
        using (var server = TinaProcess.Start(artifacts, "serve", "--generator", GenerationFixture.CheckpointDir, "--urls", url))
        {
            await WaitUntilUp(http, server);
            var answered = await http.PostAsJsonAsync("/v1/classifiers", first);
            Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
            before = await answered.Content.ReadAsByteArrayAsync();
            // A slow request (DDPM, 1,000 steps) is in flight when the server is killed.
            var inFlight = http.PostAsJsonAsync("/v1/classifiers", new { classes = new[] { "bicycle", "bed" }, sampler = "ddpm", seed = 4 });
            await Task.Delay(300);
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
            await Assert.ThrowsAnyAsync<Exception>(() => inFlight);
        }

        using (var again = TinaProcess.Start(artifacts, "serve", "--generator", GenerationFixture.CheckpointDir, "--urls", url))
        {
            try
            {
                await WaitUntilUp(http, again);
                var response = await http.PostAsJsonAsync("/v1/classifiers", first);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(before, await response.Content.ReadAsByteArrayAsync());
            }
            finally
            {
                again.Kill(entireProcessTree: true);
                again.WaitForExit();
            }
        }
    }

    [Fact]
    public async Task SigtermFinishesTheRequestInFlightThenExits()
    {
        var artifacts = TestData.TempDir();
        int port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(120) };
        using var server = TinaProcess.Start(artifacts, "serve", "--generator", GenerationFixture.CheckpointDir, "--urls", url);
        try
        {
            await WaitUntilUp(http, server);
            // A slow request (DDPM, 1,000 steps) is accepted, then the server is asked to stop as a container runtime does.
            var inFlight = http.PostAsJsonAsync("/v1/classifiers", new { classes = new[] { "bicycle", "bed" }, sampler = "ddpm", seed = 4 });
            await Task.Delay(300);
            Assert.False(inFlight.IsCompleted, "the request finished before SIGTERM was sent");
            using (var term = System.Diagnostics.Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) term.WaitForExit();
            var response = await inFlight;
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.True(bytes.Length > 1000, $"{bytes.Length} bytes");
            Assert.True(server.WaitForExit(60_000), "tina serve did not exit after SIGTERM");
            Assert.Equal(0, server.ExitCode);
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitUntilUp(HttpClient http, System.Diagnostics.Process server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            Assert.False(server.HasExited, "tina serve exited before it was up");
            try
            {
                if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, "tina serve did not come up within 90 s");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
