using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Tina.Runtime;

namespace Tina.Diffusion;

/// <summary>
/// Tina's denoiser G_φ (§2.2.2–2.2.3; G.pt's transformer with text tokens): predicts the clean p-Model parameters x0
/// from noisy ones x_t, the prompt's class embeddings and the step t. Sequence = [parameter tokens…, one token per
/// class slot in prompt order, one timestep token]; each parameter token has its own linear encoder (no bias) and
/// decoder, each class slot its own linear (with <see cref="TinaConfig.SharedSlots"/>: the row tokens share one encoder
/// and decoder, the class slots one linear, and row k adds class k's encoding). After the encoders: LayerNorm + a learned positional embedding
/// (zero-initialised); then GPT-2 pre-LN blocks without a causal mask, a final LayerNorm, and the decoders on the
/// parameter tokens only. Linear weights start N(0, 0.02), biases 0.
/// </summary>
public sealed class TinaTransformer : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Linear> param_encoders, param_decoders, class_encoders;
    private readonly Linear time_encoder;
    private readonly LayerNorm ln_in, ln_f;
    private readonly Parameter pos_emb;
    private readonly Dropout emb_drop;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly int[] _coderOf;   // parameter token → its encoder/decoder
    private readonly int[] _rowSlot;   // parameter token → class slot of its classifier row, or −1

    /// <summary>Builds the transformer for <paramref name="tokenizer"/>'s tokens; weights drawn from <paramref name="seed"/>.</summary>
    public TinaTransformer(TinaConfig config, ParameterTokenizer tokenizer, long seed = 0) : base(nameof(TinaTransformer))
    {
        Config = config.Validate();
        Tokenizer = tokenizer;
        if (tokenizer.ChunkSize != config.ChunkSize || tokenizer.Layout.NumClasses != config.MaxClasses || tokenizer.ClassifierRowTokens != config.ClassifierRowTokens)
            throw new ArgumentException($"Tokenizer (chunk {tokenizer.ChunkSize}, row tokens {tokenizer.ClassifierRowTokens}, {tokenizer.Layout.NumClasses} classes) does not match the config (chunk {config.ChunkSize}, row tokens {config.ClassifierRowTokens}, {config.MaxClasses} classes).");
        int d = config.HiddenSize;
        int rowOffset = tokenizer.Layout["fc.weight"].Offset, rowLength = (int)tokenizer.Layout["fc.weight"].Shape[1];
        _rowSlot = tokenizer.Tokens.Select(t => config.SharedSlots && t.TensorName == "fc.weight" ? (t.Offset - rowOffset) / rowLength : -1).ToArray();
        // Own coder per token; with shared slots every row token uses the first row token's coder.
        int firstRow = Array.FindIndex(_rowSlot, s => s >= 0);
        var owners = tokenizer.Tokens.Select((t, i) => _rowSlot[i] >= 0 ? firstRow : i).ToArray();
        var distinct = owners.Distinct().ToArray();
        _coderOf = owners.Select(o => Array.IndexOf(distinct, o)).ToArray();
        param_encoders = ModuleList(distinct.Select(i => Linear(tokenizer.Tokens[i].Length, d, hasBias: false)).ToArray());
        param_decoders = ModuleList(distinct.Select(i => Linear(d, tokenizer.Tokens[i].Length)).ToArray());
        class_encoders = ModuleList(Enumerable.Range(0, config.MergedTextToken || config.SharedSlots ? 1 : config.MaxClasses).Select(_ => Linear(config.TextDim, d)).ToArray());
        time_encoder = Linear(TimestepFeatures.Size, d);
        ln_in = LayerNorm(d);
        pos_emb = Parameter(zeros(1, SequenceLength, d));
        emb_drop = Dropout(config.Dropout);
        blocks = ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(d, config.Heads, config.Dropout)).ToArray());
        ln_f = LayerNorm(d);
        RegisterComponents();
        using var gen = new Generator((ulong)seed, CPU);
        using (no_grad())
            foreach (var m in modules().OfType<Linear>())
            {
                m.weight!.normal_(0.0, 0.02, gen); // init.normal_ ignores its generator in TorchSharp 0.107
                if (m.bias is not null) init.zeros_(m.bias);
            }
    }

    /// <summary>The configuration.</summary>
    public TinaConfig Config { get; }

    /// <summary>The parameter tokenization (the p-Model layout at the maximum class count).</summary>
    public ParameterTokenizer Tokenizer { get; }

    /// <summary>Length P of the generated parameter vectors.</summary>
    public int ParameterCount => Tokenizer.ParameterCount;

    /// <summary>Tokens per sequence: parameter tokens + text tokens + 1 timestep token.</summary>
    public int SequenceLength => Tokenizer.Count + (Config.MergedTextToken ? 1 : Config.MaxClasses) + 1;

    /// <summary>
    /// Predicts x0 [B, P] from noisy vectors <paramref name="xt"/> [B, P], class embeddings
    /// <paramref name="classTokens"/> [B, K, textDim] (K = max classes, padded with the '&lt;-&gt;' embedding) and
    /// integer steps <paramref name="t"/> [B] (int64, 0…T−1).
    /// </summary>
    public override Tensor forward(Tensor xt, Tensor classTokens, Tensor t)
    {
        if (classTokens.ndim != 3 || classTokens.shape[1] != Config.MaxClasses || classTokens.shape[2] != Config.TextDim)
            throw new ArgumentException($"Class tokens must be [B, {Config.MaxClasses}, {Config.TextDim}]; got [{string.Join(", ", classTokens.shape)}].", nameof(classTokens));
        using var scope = NewDisposeScope();
        var classes = Config.MergedTextToken ? [class_encoders[0].forward(classTokens.mean([1L]))]
            : Config.SharedSlots ? Enumerable.Range(0, Config.MaxClasses).Select(k => class_encoders[0].forward(classTokens.select(1, k))).ToList()
            : class_encoders.Select((enc, k) => enc.forward(classTokens.select(1, k))).ToList();
        var parts = Tokenizer.Split(xt).Select((chunk, i) =>
        {
            var e = param_encoders[_coderOf[i]].forward(chunk);
            return _rowSlot[i] >= 0 ? e.Plus(classes[_rowSlot[i]]) : e;
        }).ToList();
        parts.AddRange(classes);
        parts.Add(time_encoder.forward(TimestepFeatures.Encode(t)));
        var h = emb_drop.forward(ln_in.forward(stack(parts, 1)).Plus(pos_emb));
        foreach (var block in blocks) h = block.forward(h);
        h = ln_f.forward(h);
        var outputs = Enumerable.Range(0, Tokenizer.Count).Select(i => param_decoders[_coderOf[i]].forward(h.select(1, i))).ToList();
        return cat(outputs, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Parameters split for AdamW: matrices (weight decay) and biases, LayerNorm gains and the positional embedding
    /// (no weight decay), as in the released training code.
    /// </summary>
    public (IReadOnlyList<Parameter> Decay, IReadOnlyList<Parameter> NoDecay) ParameterGroups()
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in named_parameters())
            (p.ndim >= 2 && name != nameof(pos_emb) ? decay : noDecay).Add(p);
        return (decay, noDecay);
    }
}
