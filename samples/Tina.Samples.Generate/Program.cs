// Text-to-model with ML.NET: no training data, no training. A trained Tina generator turns a class list into an image
// classifier inside an ML.NET pipeline; the fitted pipeline is saved as a zip, reloaded with a fresh MLContext (which
// needs neither Tina's generator nor TorchSharp) and used through a PredictionEngine.
//
//   dotnet run --project samples/Tina.Samples.Generate -- GENERATOR_DIR "apple, pear, orange" image1.png image2.jpg ...
//
// GENERATOR_DIR is a checkpoint folder written by `tina train --zoo DIR` (scripts/quickstart.sh leaves one in
// artifacts/quickstart/tina, and real test images in artifacts/quickstart/images).
// Class names outside the training zoo need the generator's text encoder, which it opens by itself: set TINA_ARTIFACTS
// to the artifacts folder holding the GloVe vectors (tina text similarity sets them up).
using Microsoft.ML;
using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;
using Tina.Tasks;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Tina.Samples.Generate GENERATOR_DIR \"class1, class2, ...\" [image ...]");
    return 1;
}
var generatorDir = args[0];
var images = args.Skip(2).Select(Path.GetFullPath).ToArray();
var zipPath = Path.GetFullPath("tina-generated.zip");

try
{
    // The prompt is parsed as everywhere in Tina: classes separated by commas, semicolons or new lines.
    var classes = ClassList.Parse(args[1]);

    // 1. Fit = generate the classifier for the prompt (DDIM-50, seed 0); the chain embeds its ONNX bytes.
    var ml = new MLContext(seed: 0);
    var estimator = ml.Transforms.TinaGenerate(new TinaGenerateOptions
    {
        GeneratorPath = generatorDir,
        Prompt = args[1],   // class names outside the generator's zoo open its text encoder (GloVe from $TINA_ARTIFACTS)
        Seed = 0,
    });
    var sw = System.Diagnostics.Stopwatch.StartNew();
    var model = estimator.Fit(TinaMLNetModel.EmptyInput(ml));
    Console.WriteLine($"Generated a {estimator.GeneratedModel.Arch} classifier for [{string.Join(", ", estimator.GeneratedModel.Labels)}] in {sw.ElapsedMilliseconds} ms.");

    // 2. Save the pipeline (LoadImages → ResizeImages → ExtractPixels → ApplyOnnxModel → MapValue) as an ML.NET zip.
    TinaMLNetModel.Save(ml, model, zipPath);
    Console.WriteLine($"Saved {zipPath} ({new FileInfo(zipPath).Length:N0} bytes).");

    // 3. Reload it in a fresh MLContext and classify the images with a PredictionEngine.
    var fresh = new MLContext();
    var loaded = fresh.Model.Load(zipPath, out _);
    using var engine = fresh.Model.CreatePredictionEngine<TinaImageInput, TinaImagePrediction>(loaded);
    foreach (var image in images)
    {
        var p = engine.Predict(new TinaImageInput { ImagePath = image });
        var scores = string.Join(", ", estimator.GeneratedModel.Labels.Select((l, i) => $"{l} {p.Score[i]:P1}"));
        Console.WriteLine($"{Path.GetFileName(image)}: {p.PredictedLabel}  ({scores})");
    }
    return 0;
}
catch (Exception e) when (e is ITinaError)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
