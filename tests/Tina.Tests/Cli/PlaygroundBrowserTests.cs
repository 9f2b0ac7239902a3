using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Tina.Cli.Serving;
using Tina.Generation;
using Tina.MLNet;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Serving;
using Tina.Tests.Generation;

namespace Tina.Tests.Cli;

/// <summary>
/// The playground page of <c>tina serve</c> in a real browser (Debian's chromium + chromedriver, installed by
/// scripts/setup.sh, driven by Selenium): type classes, generate, upload a real CIFAR-100 test image, see its label.
/// </summary>
public class PlaygroundBrowserTests
{
    [Fact]
    public async Task TypeGenerateUploadAndSeeTheLabel()
    {
        Assert.True(File.Exists("/usr/bin/chromium") && File.Exists("/usr/bin/chromedriver"),
            "The browser test needs Debian's chromium and chromium-driver (scripts/setup.sh installs them).");
        using var generator = TinaGenerator.Load(GenerationFixture.CheckpointDir);
        var service = new TinaGenerationService(generator);
        var app = TinaServer.Build(service, ["http://127.0.0.1:0"], TimeSpan.FromSeconds(60));
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            var data = Fixtures.CifarSubset(classes: 12, perClass: 1, testPerClass: 1);
            int index = Enumerable.Range(0, data.Test.Count).First(i => data.ClassNames[data.Test.Labels[i]] == "bicycle");
            var png = Path.Combine(TestData.TempDir(), "bicycle.png");
            global::Tina.Data.PngWriter.Write(png, data.Test.Image(index));
            Tina.Runtime.TorchRuntime.UseOnThisThread();
            using var predictor = TinaPredictor.FromOnnx(TinaGeneratedClassifier.Generate(generator, ["apple", "bear", "bicycle"], new GenerateOptions { Seed = 2 }).Onnx);
            var expected = predictor.Predict(png).Label;

            var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
            options.AddArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
            using var driverService = ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver");
            driverService.SuppressInitialDiagnosticInformation = true;
            driverService.HideCommandPromptWindow = true;
            using var driver = new ChromeDriver(driverService, options, TimeSpan.FromSeconds(60));
            var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(60));
            driver.Navigate().GoToUrl(address);
            Assert.Equal("Tina playground", driver.Title);
            var classes = driver.FindElement(By.Id("classes"));
            classes.Clear();
            classes.SendKeys("apple, bear, bicycle");
            var seed = driver.FindElement(By.Id("seed"));
            seed.Clear();
            seed.SendKeys("2");
            driver.FindElement(By.Id("generate")).Click();
            wait.Until(d => d.FindElement(By.Id("status")).Text.StartsWith("Generated", StringComparison.Ordinal));
            Assert.Contains("3 classes", driver.FindElement(By.Id("status")).Text);
            Assert.Equal("Download ONNX", driver.FindElement(By.CssSelector("#downloads a")).Text);

            // The file input is hidden behind the drop zone; show it to type the path into it, as a user would choose a file.
            ((IJavaScriptExecutor)driver).ExecuteScript("document.getElementById('files').hidden = false;");
            driver.FindElement(By.Id("files")).SendKeys(png);
            var label = wait.Until(d => d.FindElements(By.CssSelector("#results td.label")).FirstOrDefault());
            Assert.Equal(expected, label!.Text);
            Assert.Contains("bicycle.png", driver.FindElement(By.Id("results")).Text);

            // A bad class list shows the server's problem detail.
            classes.Clear();
            classes.SendKeys("apple, APPLE");
            driver.FindElement(By.Id("generate")).Click();
            wait.Until(d => d.FindElement(By.Id("status")).GetAttribute("class") == "error");
            Assert.Contains("Duplicate class", driver.FindElement(By.Id("status")).Text);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
