using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// A network that predicts clean parameters x0 [B, P] from noisy ones <paramref name="xt"/> [B, P], class tokens
/// <paramref name="classTokens"/> [B, K, textDim] and integer steps <paramref name="t"/> [B] (int64).
/// <see cref="TinaTransformer.forward"/> is one; wrappers (an EMA copy, an oracle in tests) are others.
/// </summary>
public delegate Tensor Denoiser(Tensor xt, Tensor classTokens, Tensor t);
