using Tina.MLNet;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;

namespace Microsoft.ML;

/// <summary>
/// The catalog extension of the Tina.MLNet.Generation package: <c>mlContext.Transforms.TinaGenerate(...)</c> generates
/// the image classifier of a class list with a trained Tina generator and fits to the savable chain of
/// <c>ApplyTinaClassifier</c> (<see cref="TinaCatalog"/>). (One catalog class per
/// package, as ML.NET's own extension packages do: the inference package cannot name the generator's types.)
/// </summary>
public static class TinaGenerationCatalog
{
    /// <summary>
    /// Creates a <see cref="TinaGenerateEstimator"/>: its <c>Fit</c> generates the classifier of
    /// <see cref="TinaGenerateOptions.Prompt"/> (or <see cref="TinaGenerateOptions.Classes"/>) with the trained Tina
    /// generator — no training data — and returns the same savable chain as
    /// <see cref="TinaCatalog.ApplyTinaClassifier(TransformsCatalog, TinaClassifierOptions)"/>.
    /// </summary>
    /// <param name="catalog">The transform catalog (<c>mlContext.Transforms</c>).</param>
    /// <param name="options">Generator, prompt, sampling and columns.</param>
    /// <exception cref="ArgumentException">Neither or both of the generator path and a loaded generator are given, or neither or both of the prompt and the class list.</exception>
    /// <exception cref="InvalidPromptException">The class list is empty, too long, or has an invalid or repeated name.</exception>
    /// <example>
    /// <code>
    /// var ml = new MLContext();
    /// var model = ml.Transforms.TinaGenerate(new TinaGenerateOptions { GeneratorPath = "artifacts/quickstart/tina", Prompt = "apple, pear, orange" })
    ///     .Fit(TinaMLNetModel.EmptyInput(ml));
    /// TinaMLNetModel.Save(ml, model, "fruit.zip");
    /// </code>
    /// </example>
    public static TinaGenerateEstimator TinaGenerate(this TransformsCatalog catalog, TinaGenerateOptions options) =>
        new(catalog, options);}
