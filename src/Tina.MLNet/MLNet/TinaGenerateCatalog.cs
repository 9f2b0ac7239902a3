using Tina;
using Tina.MLNet.MLNet;

namespace Microsoft.ML;

/// <summary>
/// Catalog extension that generates a personalized image classifier from text inside an ML.NET pipeline:
/// <c>mlContext.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "…", Prompt = "apple, pear" })</c>.
/// </summary>
public static class TinaGenerateCatalog
{
    /// <summary>
    /// Creates a <see cref="TinaGenerateEstimator"/>: its <c>Fit</c> generates the classifier of
    /// <see cref="TinaGenerateOptions.Prompt"/> (or <see cref="TinaGenerateOptions.Classes"/>) with the trained Tina generator and returns a savable chain that
    /// classifies the image files named in <see cref="TinaGenerateOptions.ImagePathColumnName"/> (predicted label, score
    /// vector, class index), exactly as <see cref="TinaCatalog.ApplyTinaClassifier(TransformsCatalog, TinaClassifierOptions)"/> does.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">Generator, prompt, sampling and columns.</param>
    /// <exception cref="ArgumentException">Neither or both of the generator path and a loaded generator are given, or neither or both of the prompt and the class list.</exception>
    /// <exception cref="InvalidPromptException">The class list is empty, too long, or has an invalid or repeated name.</exception>
    /// <example>
    /// <code>
    /// var ml = new MLContext();
    /// var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "artifacts/tina/cifar100-cnn5k-small", Prompt = "apple, pear, orange" })
    ///     .Fit(TinaMLNetModel.EmptyInput(ml));
    /// TinaMLNetModel.Save(ml, model, "fruit.zip");
    /// </code>
    /// </example>
    public static TinaGenerateEstimator TinaGenerate(this TransformsCatalog catalog, TinaGenerateOptions options) =>
        new(catalog, options);
}
