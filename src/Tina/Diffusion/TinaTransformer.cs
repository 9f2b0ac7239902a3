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
/// decoder, each class slot its own linear. After the encoders: LayerNorm + a learned positional embedding
/// (zero-initialised); then GPT-2 pre-LN blocks without a causal mask, a final LayerNorm, and the decoders on the
/// parameter tokens only. Linear weights start N(0, 0.02), biases 0.
/// With <see cref="TinaConfig.SharedSlots"/> (not the paper's) the classifier is one token per class slot instead:
/// [body tokens…, slot tokens (row k and bias k, encoded by one shared linear, plus class k's text through one shared
/// linear), timestep token]; one shared decoder gives each slot's row and bias back, and all slot tokens share one
/// position. The slots are then exchangeable by construction: permuting the prompt permutes the generated rows.
/// </summary>
public sealed class TinaTransformer : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ModuleList<Linear> param_encoders, param_decoders, class_encoders;
    private readonly Linear time_encoder;
    private readonly LayerNorm ln_in, ln_f;
    private readonly Parameter pos_emb;
    private readonly ModuleList<TransformerBlock> blocks;
    private readonly int _bodyTokens; // parameter tokens before the classifier

    /// <summary>Builds the transformer for <paramref name="tokenizer"/>'s tokens; weights drawn from <paramref name="seed"/>.</summary>
    public TinaTransformer(TinaConfig config, ParameterTokenizer tokenizer, long seed = 0) : base(nameof(TinaTransformer))
    {
        Config = config.Validate();
        Tokenizer = tokenizer;
        if (tokenizer.ChunkSize != config.ChunkSize || tokenizer.Layout.NumClasses != config.MaxClasses || tokenizer.ClassifierRowTokens != config.ClassifierRowTokens)
            throw new ArgumentException($"Tokenizer (chunk {tokenizer.ChunkSize}, row tokens {tokenizer.ClassifierRowTokens}, {tokenizer.Layout.NumClasses} classes) does not match the config (chunk {config.ChunkSize}, row tokens {config.ClassifierRowTokens}, {config.MaxClasses} classes).");
        int d = config.HiddenSize;
        var layout = tokenizer.Layout;
        _bodyTokens = tokenizer.Tokens.Count(t => t.Offset < layout["fc.weight"].Offset);
        if (config.SharedSlots && (layout["fc.bias"].Offset != layout["fc.weight"].Offset + layout["fc.weight"].Length || layout["fc.bias"].Offset + layout["fc.bias"].Length != layout.Count))
            throw new ArgumentException("Shared slots need a layout that ends with fc.weight, then fc.bias.");
        // Shared slots: own coders for the body tokens, then one coder for every slot's row + bias.
        var sizes = config.SharedSlots
            ? tokenizer.Tokens.Take(_bodyTokens).Select(t => t.Length).Append(layout.FeatureDim + 1).ToArray()
            : tokenizer.Tokens.Select(t => t.Length).ToArray();
        param_encoders = ModuleList(sizes.Select(n => Linear(n, d, hasBias: false)).ToArray());
        param_decoders = ModuleList(sizes.Select(n => Linear(d, n)).ToArray());
        class_encoders = ModuleList(Enumerable.Range(0, config.MergedTextToken || config.SharedSlots ? 1 : config.MaxClasses).Select(_ => Linear(config.TextDim, d)).ToArray());
        time_encoder = Linear(TimestepFeatures.Size, d);
        ln_in = LayerNorm(d);
        pos_emb = Parameter(zeros(1, config.SharedSlots ? _bodyTokens + 2 : SequenceLength, d));
        blocks = ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(d, config.Heads)).ToArray());
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

    /// <summary>Tokens per sequence: parameter tokens + text tokens + 1 timestep token (shared slots: body tokens + slot tokens + 1).</summary>
    public int SequenceLength => Config.SharedSlots ? _bodyTokens + Config.MaxClasses + 1 : Tokenizer.Count + (Config.MergedTextToken ? 1 : Config.MaxClasses) + 1;

    /// <summary>
    /// Predicts x0 [B, P] from noisy vectors <paramref name="xt"/> [B, P], class embeddings
    /// <paramref name="classTokens"/> [B, K, textDim] (K = max classes, padded with the '&lt;-&gt;' embedding) and
    /// integer steps <paramref name="t"/> [B] (int64, 0…T−1).
    /// </summary>
    public override Tensor forward(Tensor xt, Tensor classTokens, Tensor t)
    {
        if (classTokens.ndim != 3 || classTokens.shape[1] != Config.MaxClasses || classTokens.shape[2] != Config.TextDim)
            throw new ArgumentException($"Class tokens must be [B, {Config.MaxClasses}, {Config.TextDim}]; got [{string.Join(", ", classTokens.shape)}].", nameof(classTokens));
        if (Config.SharedSlots) return ForwardSharedSlots(xt, classTokens, t);
        using var scope = NewDisposeScope();
        var parts = Tokenizer.Split(xt).Select((chunk, i) => param_encoders[i].forward(chunk)).ToList();
        if (Config.MergedTextToken) parts.Add(class_encoders[0].forward(classTokens.mean([1L])));
        else parts.AddRange(class_encoders.Select((enc, k) => enc.forward(classTokens.select(1, k))));
        parts.Add(time_encoder.forward(TimestepFeatures.Encode(t)));
        var h = ln_in.forward(stack(parts, 1)).Plus(pos_emb);
        foreach (var block in blocks) h = block.forward(h);
        h = ln_f.forward(h);
        var outputs = param_decoders.Select((dec, i) => dec.forward(h.select(1, i))).ToList();
        return cat(outputs, 1).MoveToOuterDisposeScope();
    }

    private Tensor ForwardSharedSlots(Tensor xt, Tensor classTokens, Tensor t)
    {
        using var scope = NewDisposeScope();
        var layout = Tokenizer.Layout;
        long b = xt.shape[0], k = Config.MaxClasses, f = layout.FeatureDim, d = Config.HiddenSize;
        int nb = _bodyTokens;
        var chunks = Tokenizer.Split(xt);
        var body = Enumerable.Range(0, nb).Select(i => param_encoders[i].forward(chunks[i])).ToList();
        var rows = xt.narrow(1, layout["fc.weight"].Offset, k * f).view(b, k, f);
        var biases = xt.narrow(1, layout["fc.bias"].Offset, k).view(b, k, 1);
        var slots = param_encoders[nb].forward(cat([rows, biases], 2)).Plus(class_encoders[0].forward(classTokens)); // [B, K, d]
        var time = time_encoder.forward(TimestepFeatures.Encode(t)).unsqueeze(1);
        var tokens = nb > 0 ? cat([stack(body, 1), slots, time], 1) : cat([slots, time], 1);
        var pos = cat([pos_emb.narrow(1, 0, nb), pos_emb.narrow(1, nb, 1).expand(1, k, d), pos_emb.narrow(1, nb + 1, 1)], 1);
        var h = ln_in.forward(tokens).Plus(pos);
        foreach (var block in blocks) h = block.forward(h);
        h = ln_f.forward(h);
        var outputs = Enumerable.Range(0, nb).Select(i => param_decoders[i].forward(h.select(1, i))).ToList();
        var slotOut = param_decoders[nb].forward(h.narrow(1, nb, k));                                           // [B, K, f + 1]
        outputs.Add(slotOut.narrow(2, 0, f).reshape(b, k * f));
        outputs.Add(slotOut.narrow(2, f, 1).reshape(b, k));
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
