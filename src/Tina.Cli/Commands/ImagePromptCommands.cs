using System.CommandLine;
using Spectre.Console;
using Tina.Data;
using Tina.Generation;
using Tina.Generic;
using Tina.ImagePrompts;
using Tina.MLNet.Errors;
using Tina.PModels;
using Tina.Tasks;

namespace Tina.Cli.Commands;

/// <summary><c>tina image-prompts fit</c>: the projector that lets images stand in for class names.</summary>
internal static class ImagePromptCommands
{
    public static readonly Option<string?> ClipImageModelOption = new("--clip-image-model") { Description = "With a generator trained on CLIP text (--encoder clip): embed --image-prompts with this ONNX export of the same CLIP's image tower instead of the projector." };

    public static readonly Option<string?> ProjectorOption = new("--projector") { Description = "Image-prompt projector (tina image-prompts fit); default: ARTIFACTS/image-prompts/DATASET-ARCH.safetensors." };

    public static string DefaultPath(string artifacts, string dataset, string arch) => Tina.ImagePrompts.ImagePromptProjector.DefaultPath(artifacts, dataset, arch);

    public static Command Create()
    {
        var cmd = new Command("image-prompts", "Prompt a generator with images instead of class names (zero-shot, through a projector from image features into the text space).");
        var ridge = new Option<double>("--ridge") { Description = "Ridge penalty of the least-squares fit.", DefaultValueFactory = _ => 1.0 };
        var outFile = new Option<string?>("--out") { Description = "Projector file (default: ARTIFACTS/image-prompts/DATASET-ARCH.safetensors)." };
        var fit = new Command("fit", "Fit the projector on the training split: generic model features → the text embedding of each image's class name (ridge regression).")
        {
            Datasets.DatasetOption, GenericCommands.ArchOption, ridge, outFile, TextCommands.EncoderOption, TextCommands.ClipModelOption, TextCommands.MergesOption,
        };
        fit.SetAction(Cli.Run((r, _) =>
        {
            var arch = PModelArchNames.Parse(r.GetValue(GenericCommands.ArchOption)!);
            CliContext.TorchDevice(r);
            var artifacts = CliContext.ArtifactsDir(r);
            var data = Datasets.Open(r, r.GetValue(Datasets.DatasetOption)!);
            var genericPath = GenericModel.DefaultPath(artifacts, data.Name, arch);
            using var generic = GenericModel.Load(genericPath);
            using var encoder = TextCommands.Open(r);
            var projector = ImagePromptProjector.Fit(generic, genericPath, data, encoder, r.GetValue(ridge));
            var path = Path.GetFullPath(r.GetValue(outFile) ?? DefaultPath(artifacts, data.Name, arch.ToName()));
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            projector.Save(path);
            AnsiConsole.MarkupLine($"Wrote [bold]{Markup.Escape(path)}[/]: {projector.FeatureDim} features → {projector.TextDim}-d {Markup.Escape(projector.TextEncoderId)}, fitted on {data.Train.Count:N0} training images.");
            return 0;
        }));
        cmd.Subcommands.Add(fit);
        return cmd;
    }

    /// <summary>
    /// The classes of an image-prompt folder, sorted by label: each subfolder is a class (label = its name, every image
    /// in it a prompt image), and each image directly in the folder is a class of one image (label = the file name
    /// without extension and without a trailing _N). Every image is checked against <see cref="Tina.MLNet.TinaImageLimits.Default"/>
    /// before it is decoded (<see cref="ImageTooLargeException"/> names the file and the limit).
    /// </summary>
    public static IReadOnlyList<ClassPrompt> ReadFolder(string dir, Func<IReadOnlyList<byte[]>, float[]> embed)
    {
        if (!Directory.Exists(dir)) throw new TinaFileNotFoundException(dir, "Give a folder with one subfolder of images per class, or one image per class.");
        string[] exts = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];
        bool IsImage(string f) => exts.Contains(Path.GetExtension(f).ToLowerInvariant());
        var groups = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var sub in Directory.GetDirectories(dir))
        {
            var files = Directory.GetFiles(sub).Where(IsImage).Order(StringComparer.Ordinal).ToList();
            if (files.Count > 0) groups[Path.GetFileName(sub)] = files;
        }
        foreach (var file in Directory.GetFiles(dir).Where(IsImage))
        {
            var label = System.Text.RegularExpressions.Regex.Replace(Path.GetFileNameWithoutExtension(file), "_[0-9]+$", "");
            if (!groups.TryGetValue(label, out var list)) groups[label] = list = [];
            list.Add(file);
        }
        if (groups.Count == 0) throw new InvalidPromptException($"{dir} holds no images (.png, .jpg, .bmp, .gif, .webp), directly or in subfolders.");
        return groups.Select(g =>
        {
            float[] v;
            // Each file through the inference package's checks (byte limit, then the header's pixel limits), so a
            // bad or oversized image is named by its path before anything is decoded.
            var images = g.Value.Select(f => Tina.MLNet.TinaImages.ReadFile(f)).ToList();
            try { v = embed(images); }
            catch (InvalidDataException e) { throw new InvalidPromptException($"An image of class '{g.Key}' in {dir} cannot be read: {e.Message}"); }
            return new ClassPrompt(g.Key, $"images of {g.Key}") { Embedding = v };
        }).ToList();
    }
}
