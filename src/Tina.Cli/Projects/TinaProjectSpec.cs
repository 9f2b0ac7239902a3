using System.Text.Json;
using System.Text.Json.Serialization;
using Tina.MLNet.Errors;

namespace Tina.Cli.Projects;

/// <summary>
/// The <c>NAME.tina.json</c> file <c>tina new</c> writes beside the model (this type owns the format): everything
/// needed to make the same model again — the class list, the method and its source (generator folder and the
/// SHA-256 of its weights, or dataset + architecture for classifier selection), the sampler settings — and the SHA-256
/// of the ONNX classifier inside the <c>.mlnet</c>, so <c>tina new --from</c> can tell whether it regenerated the same
/// model. (Not of the zip itself: ML.NET writes the blocks of its label table in parallel-completion order.)
/// </summary>
internal sealed record TinaProjectSpec
{
    /// <summary>Value of <see cref="Format"/>.</summary>
    public const string FormatName = "tina-project";

    /// <summary>The format version written.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format marker.</summary>
    public string Format { get; init; } = FormatName;

    /// <summary>Format version.</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>Project and class name (a C# identifier).</summary>
    public required string Name { get; init; }

    /// <summary>The class list in output order.</summary>
    public required string[] Classes { get; init; }

    /// <summary><c>tina</c> (a trained generator) or <c>classifier-selection</c> (a generic model's rows).</summary>
    public required string Method { get; init; }

    /// <summary>The generator's checkpoint folder (method <c>tina</c>); relative paths are relative to this file's folder.</summary>
    public string? Generator { get; init; }

    /// <summary><c>sha256:…</c> of the generator's weights file, to notice a generator that changed since.</summary>
    public string? GeneratorId { get; init; }

    /// <summary>Sampler, <c>ddim</c> or <c>ddpm</c> (method <c>tina</c>).</summary>
    public string Sampler { get; init; } = "ddim";

    /// <summary>Sampling steps; null for the sampler's default.</summary>
    public int? Steps { get; init; }

    /// <summary>Seed of the sampling noise.</summary>
    public long Seed { get; init; }

    /// <summary>Seed-ensemble size (1 = one p-Model).</summary>
    public int Ensemble { get; init; } = 1;

    /// <summary>Dataset of the generic model (method <c>classifier-selection</c>).</summary>
    public string? Dataset { get; init; }

    /// <summary>Architecture of the generic model (method <c>classifier-selection</c>).</summary>
    public string? Arch { get; init; }

    /// <summary>Whether the ASP.NET Core project was written too.</summary>
    public bool WebApi { get; init; }

    /// <summary>How a resnet18 classifier sits in the model: <c>onnx</c> (one file, backbone and head; also null) or <c>head</c> (ML.NET's ResNet-18 transforms, then the head).</summary>
    public string? ClassifierFormat { get; init; }

    /// <summary><c>sha256:…</c> of the ONNX classifier embedded in the <c>.mlnet</c> written.</summary>
    public string? OnnxSha256 { get; init; }

    /// <summary>The Tina version that wrote the file.</summary>
    public string? TinaVersion { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The file's JSON text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads a spec written by <see cref="ToJson"/>.</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">Not valid JSON, not a Tina project file, or a field is missing.</exception>
    public static TinaProjectSpec Load(string path)
    {
        if (!File.Exists(path)) throw new TinaFileNotFoundException(path, "Expected a NAME.tina.json written by 'tina new'.");
        TinaProjectSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<TinaProjectSpec>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new CorruptFileException(path, $"not a Tina project file ({e.Message})", e);
        }
        if (spec is null || spec.Format != FormatName)
            throw new CorruptFileException(path, $"not a Tina project file (\"format\" is not \"{FormatName}\")");
        if (spec.Version > CurrentVersion)
            throw new CorruptFileException(path, $"written by a newer Tina (format version {spec.Version}; this one reads up to {CurrentVersion})");
        return spec;
    }
}
