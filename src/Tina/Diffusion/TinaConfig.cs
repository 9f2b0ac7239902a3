namespace Tina.Diffusion;

/// <summary>
/// Size and options of Tina's diffusion transformer. The paper trains d 2048 / 12 layers / 16 heads (A.5); the released
/// CIFAR-100 config is d 512 / 12 / 16 (<see cref="Base"/>). <see cref="Small"/> fits a CPU; <see cref="Tiny"/> is for tests.
/// </summary>
/// <param name="HiddenSize">Transformer width d.</param>
/// <param name="Layers">Number of GPT-2 blocks.</param>
/// <param name="Heads">Attention heads; must divide <paramref name="HiddenSize"/>.</param>
/// <param name="ChunkSize">Parameter-token chunk size M (576 in the paper).</param>
/// <param name="TextDim">Dimension of one class embedding (CLIP ViT-B/32: 512; GloVe: 100).</param>
/// <param name="MaxClasses">Class slots in the prompt (the padded sequence length; 10 in the paper).</param>
/// <param name="Tokens">
/// How the classifier is cut into tokens and the class texts are read (<see cref="TokenLayout"/>): by default
/// <see cref="TokenLayout.SharedSlots"/>, the layout of every recipe and of <see cref="Generation.TinaTrainingOptions"/>
/// (the paper's: <see cref="TokenLayout.Chunks"/>). Checkpoints written before the enum stored three switches, read by
/// <see cref="Generation.TinaCheckpoint"/> into it.
/// </param>
public sealed record TinaConfig(
    int HiddenSize,
    int Layers,
    int Heads,
    int ChunkSize = ParameterTokenizer.DefaultChunkSize,
    int TextDim = 512,
    int MaxClasses = SequencePadding.DefaultMaxClasses,
    TokenLayout Tokens = TokenLayout.SharedSlots)
{
    /// <summary>Whether fc.weight is cut one classifier row per token, whatever <see cref="ChunkSize"/> (<see cref="ParameterTokenizer"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ClassifierRowTokens => Tokens.ClassifierRowTokens();

    /// <summary>Whether each class slot's row, bias and text are one token through one shared encoder and decoder.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool SharedSlots => Tokens.SharedSlots();

    /// <summary>Whether the class texts are merged into one token (the TAPER ablation).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool MergedTextToken => Tokens.MergedTextToken();

    /// <summary>For unit tests: d 64, 2 layers, 4 heads.</summary>
    public static TinaConfig Tiny => new(64, 2, 4);

    /// <summary>CPU-sized: d 256, 4 layers, 8 heads.</summary>
    public static TinaConfig Small => new(256, 4, 8);

    /// <summary>The released CIFAR-100 config: d 512, 12 layers, 16 heads.</summary>
    public static TinaConfig Base => new(512, 12, 16);

    /// <summary>The paper's scale (A.5): d 2048, 12 layers, 16 heads.</summary>
    public static TinaConfig Paper => new(2048, 12, 16);

    /// <summary>
    /// Floating-point operations of one forward pass of the transformer blocks over a sequence of
    /// <paramref name="sequenceLength"/> tokens (per layer: the Q, K, V and output projections and the 4× MLP, 24·T·d²,
    /// plus the attention products, 4·T²·d); the token encoders and decoders are left out. What one denoising step costs
    /// at least, for benchmarks' floors.
    /// </summary>
    public double ForwardFlops(int sequenceLength) =>
        Layers * (24.0 * sequenceLength * HiddenSize * HiddenSize + 4.0 * sequenceLength * sequenceLength * HiddenSize);

    /// <summary>Checks the values; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public TinaConfig Validate()
    {
        if (HiddenSize < 1 || Layers < 0 || Heads < 1 || ChunkSize < 1 || TextDim < 1 || MaxClasses < 1)
            throw new ArgumentException($"Invalid Tina config {this}: sizes must be positive.");
        if (HiddenSize % Heads != 0)
            throw new ArgumentException($"Hidden size {HiddenSize} is not divisible by {Heads} heads.");
        if (!Enum.IsDefined(Tokens))
            throw new ArgumentException($"Unknown token layout {Tokens}.");
        return this;
    }
}
