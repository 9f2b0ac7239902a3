using Tina.Runtime;
using static TorchSharp.torch;

namespace Tina.Diffusion;

/// <summary>
/// The Gaussian diffusion process of Tina (Algorithm 1): T = 1,000 steps, linear betas 1e-4 → 0.02 (schedule kept in
/// double precision), q(x_t | x0) = N(√ᾱ_t·x0, (1−ᾱ_t)·I), a network that predicts x0 ("signal prediction") trained
/// with the MSE to x0, and DDPM / DDIM samplers starting from N(0, I) without clipping. Steps are 0-based here: index t
/// is the paper's j = t + 1, so <c>Betas[0]</c> = β_1 = 1e-4 and <c>Betas[999]</c> = β_1000 = 0.02.
/// All randomness comes from the caller's <see cref="Generator"/> (drawn on the CPU, then moved to the data's
/// device), never from the global generator, so equal seeds give bitwise-equal results on any thread.
/// The instance is immutable and safe to share between threads.
/// </summary>
public sealed class GaussianDiffusion
{
    /// <summary>Creates the schedule: <paramref name="steps"/> betas evenly spaced from <paramref name="betaStart"/> to <paramref name="betaEnd"/>.</summary>
    public GaussianDiffusion(int steps = 1000, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        if (!(0 < betaStart && betaStart <= betaEnd && betaEnd < 1)) throw new ArgumentException("Betas must satisfy 0 < start ≤ end < 1.");
        Steps = steps;
        var betas = new double[steps];
        var acp = new double[steps];
        double prod = 1.0;
        for (int t = 0; t < steps; t++)
        {
            betas[t] = betaStart + (betaEnd - betaStart) * t / (steps - 1);
            prod *= 1.0 - betas[t];
            acp[t] = prod;
        }
        Betas = betas;
        AlphasCumprod = acp;
    }

    /// <summary>Number of diffusion steps T.</summary>
    public int Steps { get; }

    /// <summary>β_t for t = 0…T−1.</summary>
    public IReadOnlyList<double> Betas { get; }

    /// <summary>ᾱ_t = Π_{s≤t} (1 − β_s) for t = 0…T−1 (strictly decreasing).</summary>
    public IReadOnlyList<double> AlphasCumprod { get; }

    /// <summary>Draws x_t ~ q(x_t | x0) = √ᾱ_t·x0 + √(1−ᾱ_t)·noise for a batch x0 [B, …] and steps t [B].</summary>
    public Tensor QSample(Tensor x0, Tensor t, Tensor noise)
    {
        var ts = Steps1d(t, x0.shape[0]);
        using var scope = NewDisposeScope();
        var a = Column(ts.Select(i => Math.Sqrt(AlphasCumprod[i])), x0);
        var s = Column(ts.Select(i => Math.Sqrt(1.0 - AlphasCumprod[i])), x0);
        return (a * x0).Plus(s * noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The training loss of Algorithm 1 for a batch: t ~ U{0…T−1}, x_t ~ q(x_t | x0), loss = MSE(model(x_t, c, t), x0),
    /// averaged over the entries where <paramref name="mask"/> ([P] or [B, P], 1 = real parameter) is 1 (all when null).
    /// </summary>
    public Tensor TrainingLoss(TinaTransformer model, Tensor x0, Tensor classTokens, Tensor? mask, Generator generator) =>
        TrainingLoss(model.forward, x0, classTokens, mask, generator);

    /// <inheritdoc cref="TrainingLoss(TinaTransformer, Tensor, Tensor, Tensor?, Generator)"/>
    public Tensor TrainingLoss(Denoiser model, Tensor x0, Tensor classTokens, Tensor? mask, Generator generator)
    {
        using var scope = NewDisposeScope();
        var t = randint(0, Steps, [x0.shape[0]], ScalarType.Int64, generator: generator).to(x0.device);
        var noise = randn(x0.shape, ScalarType.Float32, generator: generator).to(x0.dtype, x0.device);
        var pred = model(QSample(x0, t, noise), classTokens, t);
        return MaskedMse(pred, x0, mask).MoveToOuterDisposeScope();
    }

    /// <summary>Mean squared error over the entries where <paramref name="mask"/> (broadcastable to the inputs) is 1; plain MSE when null.</summary>
    public static Tensor MaskedMse(Tensor prediction, Tensor target, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        var sq = (prediction - target).square();
        if (mask is null) return sq.mean().MoveToOuterDisposeScope();
        var m = mask.to(sq.dtype).expand_as(sq);
        return ((sq * m).sum() / m.sum().AtLeast(1.0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The <paramref name="count"/> timesteps a sampler visits, ascending and evenly spaced from 0 to T−1
    /// (rounded; <paramref name="count"/> = T gives every step).
    /// </summary>
    public int[] Timesteps(int count)
    {
        if (count < 1 || count > Steps) throw new ArgumentOutOfRangeException(nameof(count), $"Sampling steps must be 1…{Steps}; got {count}.");
        if (count == 1) return [Steps - 1];
        return Enumerable.Range(0, count).Select(i => (int)Math.Round((double)i * (Steps - 1) / (count - 1))).Distinct().ToArray();
    }

    /// <summary>
    /// Generates p-Model vectors [B, P] for the prompts <paramref name="classTokens"/> [B, K, textDim] (on the model's
    /// device). <paramref name="steps"/>: sampling steps (null = all T for DDPM, 50 for DDIM). <paramref name="mask"/>
    /// ([P] or [B, P]) zeroes padded parameters in every x0 prediction and in the result.
    /// </summary>
    public Tensor Sample(TinaTransformer model, Tensor classTokens, DiffusionSampler sampler, int? steps, Generator generator, Tensor? mask = null)
    {
        return Sample(model.forward, model.ParameterCount, classTokens, sampler, steps, generator, mask);
    }

    /// <summary>As <see cref="Sample(TinaTransformer, Tensor, DiffusionSampler, int?, Generator, Tensor?)"/> with a generator seeded by <paramref name="seed"/>.</summary>
    public Tensor Sample(TinaTransformer model, Tensor classTokens, DiffusionSampler sampler, int? steps, long seed, Tensor? mask = null)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return Sample(model, classTokens, sampler, steps, generator, mask);
    }

    /// <summary>Generates vectors [B, <paramref name="parameterCount"/>] with any x0-predicting <paramref name="model"/>.</summary>
    public Tensor Sample(Denoiser model, int parameterCount, Tensor classTokens, DiffusionSampler sampler, int? steps, Generator generator, Tensor? mask = null) =>
        Sample(model, parameterCount, classTokens, sampler, steps, [generator], mask);

    /// <summary>
    /// As <see cref="Sample(TinaTransformer, Tensor, DiffusionSampler, int?, Generator, Tensor?)"/>, with the batch
    /// split into <c>generators.Count</c> equal blocks of consecutive rows: block g draws all its noise (the initial
    /// noise and DDPM's noise at every step) from <c>generators[g]</c>, so each block is the sample its own seed gives,
    /// while all blocks share one batched run of the model. One generator draws exactly what the single-generator
    /// overload draws.
    /// </summary>
    /// <exception cref="ArgumentException">No generator, or the batch is not a multiple of their count.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked before every step).</exception>
    public Tensor Sample(TinaTransformer model, Tensor classTokens, DiffusionSampler sampler, int? steps, IReadOnlyList<Generator> generators, Tensor? mask = null, CancellationToken cancellationToken = default)
    {
        return Sample(model.forward, model.ParameterCount, classTokens, sampler, steps, generators, mask, cancellationToken);
    }

    /// <summary>
    /// Generates vectors [B, <paramref name="parameterCount"/>] with any x0-predicting <paramref name="model"/>, block g
    /// of the batch drawing its noise from <c>generators[g]</c> (see
    /// <see cref="Sample(TinaTransformer, Tensor, DiffusionSampler, int?, IReadOnlyList{Generator}, Tensor?, CancellationToken)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No generator, or the batch is not a multiple of their count.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled (checked before every step).</exception>
    public Tensor Sample(Denoiser model, int parameterCount, Tensor classTokens, DiffusionSampler sampler, int? steps, IReadOnlyList<Generator> generators, Tensor? mask = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(generators);
        var taus = Timesteps(steps ?? (sampler == DiffusionSampler.Ddpm ? Steps : 50));
        long batch = classTokens.shape[0];
        if (generators.Count == 0 || batch % generators.Count != 0)
            throw new ArgumentException($"The batch of {batch} prompts must split into equal blocks, one per generator; got {generators.Count} generators.", nameof(generators));
        var device = classTokens.device;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var x = Noise(generators, batch, parameterCount, device);
        for (int i = taus.Length - 1; i >= 0; i--)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Tensor next;
            using (NewDisposeScope())
            {
                int t = taus[i];
                double acp = AlphasCumprod[t], acpPrev = i > 0 ? AlphasCumprod[taus[i - 1]] : 1.0;
                var x0 = model(x, classTokens, TensorMath.Full([batch], t, ScalarType.Int64, device));
                if (mask is not null) x0 = x0 * mask;
                if (sampler == DiffusionSampler.Ddim)
                {
                    var eps = x.Plus(x0, -Math.Sqrt(acp)).DivideInPlace(Math.Sqrt(1.0 - acp));
                    next = TensorMath.Combine(Math.Sqrt(acpPrev), x0, Math.Sqrt(1.0 - acpPrev), eps);
                }
                else
                {
                    // Posterior q(x_prev | x_t, x0) of the (possibly respaced) chain: α = ᾱ_t / ᾱ_prev, β = 1 − α.
                    double alpha = acp / acpPrev, beta = 1.0 - alpha;
                    double coef1 = beta * Math.Sqrt(acpPrev) / (1.0 - acp);
                    double coef2 = (1.0 - acpPrev) * Math.Sqrt(alpha) / (1.0 - acp);
                    next = TensorMath.Combine(coef1, x0, coef2, x);
                    if (i > 0) next = next.Plus(Noise(generators, batch, parameterCount, device), Math.Sqrt(beta));
                }
                next = next.MoveToOuterDisposeScope();
            }
            x.Dispose();
            x = next;
        }
        if (mask is not null) x = x * mask;
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Standard normal noise [batch, count]: one draw of the whole batch per generator block, blocks in order.</summary>
    private static Tensor Noise(IReadOnlyList<Generator> generators, long batch, int count, Device device)
    {
        if (generators.Count == 1) return randn([batch, count], ScalarType.Float32, generator: generators[0]).to(device);
        long rows = batch / generators.Count;
        using var scope = NewDisposeScope();
        var blocks = generators.Select(g => randn([rows, count], ScalarType.Float32, generator: g)).ToList();
        return cat(blocks, 0).to(device).MoveToOuterDisposeScope();
    }

    private int[] Steps1d(Tensor t, long batch)
    {
        if (t.ndim != 1 || t.shape[0] != batch) throw new ArgumentException($"Timesteps must be [{batch}]; got [{string.Join(", ", t.shape)}].", nameof(t));
        using var cpu = t.cpu().to(ScalarType.Int64);
        var ts = cpu.data<long>().Select(v => (int)v).ToArray();
        foreach (var v in ts)
            if (v < 0 || v >= Steps) throw new ArgumentOutOfRangeException(nameof(t), $"Timestep {v} is outside 0…{Steps - 1}.");
        return ts;
    }

    /// <summary>Per-sample coefficients as a [B, 1, …] column matching <paramref name="like"/>'s rank, dtype and device.</summary>
    private static Tensor Column(IEnumerable<double> values, Tensor like)
    {
        var shape = new long[like.ndim];
        Array.Fill(shape, 1L);
        shape[0] = like.shape[0];
        return tensor(values.ToArray(), shape, ScalarType.Float64).to(like.dtype).to(like.device);
    }
}
