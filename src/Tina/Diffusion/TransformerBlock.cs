using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Tina.Runtime;

namespace Tina.Diffusion;

/// <summary>
/// One GPT-2 (minGPT) pre-LN block: x + Attn(LN(x)), then x + MLP(LN(x)) with a 4× GELU MLP. Full (bidirectional)
/// self-attention: there is no causal mask, every token sees every other (parameters, classes, timestep).
/// </summary>
public sealed class TransformerBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm ln_1, ln_2;
    private readonly Linear attn_qkv, attn_proj, mlp_fc, mlp_proj;
    private readonly int _heads;

    /// <summary>Creates a block of width <paramref name="hiddenSize"/> with <paramref name="heads"/> heads.</summary>
    public TransformerBlock(int hiddenSize, int heads) : base(nameof(TransformerBlock))
    {
        if (hiddenSize % heads != 0) throw new ArgumentException($"Hidden size {hiddenSize} is not divisible by {heads} heads.");
        _heads = heads;
        ln_1 = LayerNorm(hiddenSize);
        attn_qkv = Linear(hiddenSize, 3 * hiddenSize);
        attn_proj = Linear(hiddenSize, hiddenSize);
        ln_2 = LayerNorm(hiddenSize);
        mlp_fc = Linear(hiddenSize, 4 * hiddenSize);
        mlp_proj = Linear(4 * hiddenSize, hiddenSize);
        RegisterComponents();
    }

    /// <summary>Maps tokens [B, S, d] to [B, S, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], s = x.shape[1], d = x.shape[2];
        // Multi-head self-attention: [B, S, 3d] → three [B, heads, S, d/heads].
        var qkv = attn_qkv.forward(ln_1.forward(x)).view(b, s, 3, _heads, d / _heads).permute(2, 0, 3, 1, 4);
        var y = functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], null, 0.0, false);
        y = y.transpose(1, 2).reshape(b, s, d);
        x = x.Plus(attn_proj.forward(y));
        // Feed-forward: d → 4d → GELU → d.
        x = x.Plus(mlp_proj.forward(functional.gelu(mlp_fc.forward(ln_2.forward(x)))));
        return x.MoveToOuterDisposeScope();
    }
}
