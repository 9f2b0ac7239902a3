using Tina.Data;
using Tina.Generic;
using Tina.ImagePrompts;
using Tina.PModels;
using Tina.Text;
using Tina.Zoo;

namespace Tina.Generation;

/// <summary>
/// What a <c>tina train</c> run needs besides its options, each read once: the zoo's manifest, the recipe (named, or the
/// one the zoo was built with), and for image prompts the projector, its generic model and the projected images; the
/// generic model is handed to the trainer too, so that a zoo naming the same file does not load it again.
/// </summary>
public sealed class TinaTrainingSetup : IDisposable
{
    private GenericModel? _generic;
    private string? _genericPath;

    private TinaTrainingSetup(string zooDir, ZooManifest manifest, PModelArch arch, Recipe recipe)
    {
        ZooDir = zooDir;
        Manifest = manifest;
        Arch = arch;
        Recipe = recipe;
    }

    /// <summary>The zoo folder (full path).</summary>
    public string ZooDir { get; }

    /// <summary>The zoo's manifest.</summary>
    public ZooManifest Manifest { get; }

    /// <summary>The zoo's p-Model architecture.</summary>
    public PModelArch Arch { get; }

    /// <summary>The recipe whose settings the run starts from.</summary>
    public Recipe Recipe { get; }

    /// <summary>The recipe's training options (<see cref="TinaTrainingOptions.FromRecipe"/>), for the caller to override.</summary>
    public TinaTrainingOptions Defaults => TinaTrainingOptions.FromRecipe(Recipe);

    /// <summary>The projected training images after <see cref="LoadImagePrompts"/>; otherwise null.</summary>
    public ImagePromptPool? ImagePrompts { get; private set; }

    /// <summary>The projector file <see cref="LoadImagePrompts"/> read (full path); otherwise null.</summary>
    public string? ImagePromptProjector { get; private set; }

    /// <summary>
    /// Reads the manifest of the zoo in <paramref name="zooDir"/> and picks the recipe: <paramref name="recipeName"/>, or
    /// when null the one the zoo records (its architecture's when it records none).
    /// </summary>
    /// <exception cref="TinaException">The recipe is unknown or for another architecture than the zoo's.</exception>
    public static TinaTrainingSetup Open(string zooDir, string? recipeName = null)
    {
        zooDir = Path.GetFullPath(zooDir);
        var manifest = ZooManifest.Load(zooDir);
        var arch = PModelArchNames.Parse(manifest.Arch);
        var recipe = recipeName is null ? Recipes.Recorded(manifest.Recipe, arch) : Recipes.Get(recipeName);
        if (recipe.Arch != arch)
            throw new TinaException($"The recipe {recipe.Name} is for {recipe.Arch.ToName()} p-Models; the zoo {zooDir} holds {manifest.Arch} (its recipe: {Recipes.For(arch).Name}).");
        return new TinaTrainingSetup(zooDir, manifest, arch, recipe);
    }

    /// <summary>
    /// Reads the projector at <paramref name="projectorPath"/> (which must map into <paramref name="textEncoderId"/>'s
    /// space), loads its generic model and projects <paramref name="data"/>'s training images: the pool of
    /// <see cref="ImagePrompts"/>.
    /// </summary>
    /// <exception cref="TinaException">The projector was fitted for another text encoder.</exception>
    public ImagePromptPool LoadImagePrompts(string projectorPath, string textEncoderId, ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        projectorPath = Path.GetFullPath(projectorPath);
        var projector = Tina.ImagePrompts.ImagePromptProjector.Load(projectorPath).RequireEncoder(textEncoderId, "this training run");
        _generic?.Dispose();
        _generic = GenericModel.Load(projector.GenericModel);
        _genericPath = projector.GenericModel;
        ImagePromptProjector = projectorPath;
        return ImagePrompts = ImagePromptPool.Build(projector, _generic, data);
    }

    /// <summary>
    /// Trains (or resumes) on the zoo with <paramref name="options"/> (whose image-prompt settings must match
    /// <see cref="LoadImagePrompts"/>; the projector's path is recorded in them), writing checkpoints to
    /// <paramref name="checkpointDir"/>.
    /// </summary>
    /// <exception cref="TinaException">As <see cref="TinaTrainer"/>.</exception>
    public TinaTrainingResult Train(TinaTrainingOptions options, ITextEncoder encoder, EmbeddingCache? cache, string checkpointDir,
        IProgress<TinaTrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ImagePromptProjector is { } projector) options = options with { ImagePromptProjector = projector };
        var trainer = new TinaTrainer(options, encoder, cache, ImagePrompts);
        return trainer.Train(ZooDir, Manifest, _generic is null ? null : (_genericPath!, _generic), checkpointDir, progress, cancel);
    }

    /// <summary>Frees the generic model loaded for image prompts.</summary>
    public void Dispose()
    {
        _generic?.Dispose();
        _generic = null;
    }
}
