// The README's C# snippets, one method each, compiled with the solution. Each README block appears here verbatim
// (tests/Tina.Tests/ReadmeSnippetsTests.cs checks it), so a renamed API breaks the build, not the README.
// The methods are not run here: they need a trained generator and real images; the tests exercise the same calls.
#pragma warning disable CA1822, IDE0059
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.ML;
using Tina.Generation;
using Tina.Generic;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Export;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Samples.Readme;

public static class Snippets
{
    public static void ClassifierSelectionToMLNet()
    {
        // README: classifier selection → ONNX → ML.NET
        var store = new Tina.Data.DatasetStore(dataRoot: "../shared/data", artifactsDir: "artifacts");
        var cifar = store.Open("cifar100");
        using var generic = GenericModel.Load("artifacts/generic/cifar100-resnet18");
        var task = PersonalizationTask.FromPrompt(cifar, "apple, pear, orange");   // or FromNames(cifar, ["apple", "pear", "orange"])
        var pmodel = ClassifierSelection.Create(generic, task);          // a p-Model: arch + labels + parameters
        byte[] onnx = OnnxExporter.Export(pmodel, task.Prompt, "classifier-selection");

        var ml = new MLContext();
        var model = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = onnx })
            .Fit(TinaMLNetModel.EmptyInput(ml));                         // LoadImages → Resize → ExtractPixels → ONNX → MapValue
        TinaMLNetModel.Save(ml, model, "fruit.zip");                     // a normal ML.NET model zip (ONNX embedded)
        using var engine = ml.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(model);
        TinaImagePrediction p = engine.Predict(new TinaImageInput { ImagePath = "my-apple.jpg" });
        Console.WriteLine($"{p.Label} {p.Score[p.Index]:P1}");           // PredictedLabel/ClassIndex are one-element arrays
    }

    public static void TwoFormats()
    {
        // README: a resnet18 classifier in one file or as the head alone
        using var generator = TinaGenerator.Load("artifacts/quickstart/tina", Tina.MLNet.Generation.Text.TextEncoders.Opener());
        var whole = TinaGeneratedClassifier.Generate(generator, ClassList.Parse("apple, pear"), new GenerateOptions { Seed = 1 });                      // ResNet-18 + head: one 64 MB ONNX file
        var head = TinaGeneratedClassifier.Generate(generator, ClassList.Parse("apple, pear"), new GenerateOptions { Seed = 1 }, ClassifierFormat.Head); // the head alone: a few KB
        var ml = new MLContext();
        var chain = ml.Transforms.ApplyTinaClassifier(new TinaClassifierOptions { OnnxModel = head.Onnx })
            .Fit(TinaMLNetModel.EmptyInput(ml));   // LoadImages → ResizeImages 224 → ExtractPixels → ML.NET's ResNet-18 → ApplyOnnxModel(head) → MapValue
    }

    public static void GenerateInMLNet()
    {
        // README: TinaGenerate
        var ml = new MLContext();
        var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "artifacts/quickstart/tina", Prompt = "apple, pear, orange" })
            .Fit(TinaMLNetModel.EmptyInput(ml));   // generates the classifier once, returns the same savable chain
        TinaMLNetModel.Save(ml, model, "fruit.zip");
    }

    public static void ServePredictions(byte[] uploadedImage)
    {
        // README: TinaPredictor
        using var predictor = TinaPredictor.Load("fruit.zip");          // or .onnx, or TinaPredictor.FromOnnx(bytes)
        TinaPrediction a = predictor.Predict("photo.jpg");               // a file
        TinaPrediction b = predictor.Predict(uploadedImage);             // encoded bytes (PNG, JPEG, BMP, …)
        Parallel.For(0, 8, _ => predictor.Predict(uploadedImage));       // thread-safe: one pooled engine per caller
        Console.WriteLine($"{a.Label} ({a.Score:P1}); {b.Label}");
    }

    public static async Task ConsoleApp()
    {
        // README: in an app (console; tests/Tina.Tests/Packages builds it as a .NET 8 app from the packages)
        // A console app: a byte[] column (uploads, database blobs), saved and reloaded; async prediction with cancellation
        var ml = new MLContext();
        var model = ml.Transforms.ApplyTinaClassifier("fruit.onnx", TinaCatalog.Defaults.ImageBytesColumnName)
            .Fit(TinaMLNetModel.EmptyBytesInput(ml));
        TinaMLNetModel.Save(ml, model, "fruit-bytes.zip", TinaMLNetModel.EmptyBytesInput(ml).Schema);
        var fresh = new MLContext();
        var loaded = TinaMLNetModel.Load(fresh, "fruit-bytes.zip", out _);   // registers Tina's decoding step with the context
        using var engine = fresh.Model.CreatePredictionEngine<TinaImageBytesInput, TinaImagePrediction>(loaded);
        Console.WriteLine("bytes: " + engine.Predict(new TinaImageBytesInput { ImageBytes = File.ReadAllBytes("photo.jpg") }).Label);

        using var predictor = TinaPredictor.Load("fruit-bytes.zip");
        await using (var upload = File.OpenRead("photo.jpg"))
            Console.WriteLine("async: " + (await predictor.PredictAsync(upload, "photo.jpg", CancellationToken.None)).Label);
        try
        {
            await predictor.PredictAsync(File.ReadAllBytes("photo.jpg"), new CancellationToken(canceled: true));
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("cancelled: nothing was predicted");
        }
    }

    public static void WebApp(string[] args)
    {
        // README: in an app (ASP.NET Core; tests/Tina.Tests/Packages builds it as a .NET 8 app from the packages)
        // An ASP.NET Core app: AddTinaPredictor, a health check, and /predict for form uploads and raw bodies
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddTinaPredictor();                 // "Tina": { "ModelPath": "fruit.zip" } in appsettings.json (or Tina__ModelPath)
        builder.Services.AddHealthChecks().AddCheck<TinaPredictorHealthCheck>("tina");
        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        app.MapPost("/predict", async (HttpRequest request, TinaPredictor predictor, CancellationToken cancel) =>
        {
            try
            {
                TinaPrediction p;
                if (request.HasFormContentType)              // an HTML form: curl -F image=@photo.jpg
                {
                    var form = await request.ReadFormAsync(cancel);
                    if (form.Files.Count == 0) return Results.Problem("Send the image as a file field.", statusCode: 400);
                    await using var file = form.Files[0].OpenReadStream();
                    p = await predictor.PredictAsync(file, form.Files[0].FileName, cancel);
                }
                else                                          // the bytes as the body: curl --data-binary @photo.jpg
                {
                    p = await predictor.PredictAsync(request.Body, "the request body", cancel);
                }
                return Results.Ok(new { label = p.Label, score = p.Score });
            }
            catch (ImageTooLargeException e) { return Results.Problem(e.Message, statusCode: 413); }
            catch (CorruptFileException e) { return Results.Problem(e.Message, statusCode: 400); }
        });
        app.Run();
    }

    public static void GenerateOnce()
    {
        // README: one generation path
        using var generator = TinaGenerator.Load("artifacts/quickstart/tina", Tina.MLNet.Generation.Text.TextEncoders.Opener("artifacts"));   // the encoder the checkpoint names: MiniLM from its package (GloVe from artifacts/text/glove)
        var generated = TinaGeneratedClassifier.Generate(generator, ClassList.Parse("apple, pear, orange"), new GenerateOptions { Seed = 1 });
        File.WriteAllBytes("fruit.onnx", generated.Onnx);                // what tina generate writes
        var ml = new MLContext();
        TinaMLNetModel.Save(ml, generated.ToMLNet(ml), "fruit.zip");     // the same bytes in an ML.NET chain, no file read back
    }

    public static void Ensembles()
    {
        // README: seed ensembles
        using var generator = TinaGenerator.Load("artifacts/tina/…");
        var options = new GenerateOptions { Seed = 1, EnsembleSize = 4 };          // 1 to 16; member seeds: options.MemberSeeds()
        PModelEnsemble ensemble = generator.GenerateEnsemble(["apple", "pear", "orange"], options);   // one batched diffusion run
        OnnxExporter.Save(ensemble, "fruit-x4.onnx", "apple, pear, orange", options.Describe());    // one graph, mean softmax
    }
}
