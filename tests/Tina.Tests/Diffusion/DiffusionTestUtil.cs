using Tina.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Tina.Tests.Diffusion;

/// <summary>Seeded random data for the diffusion tests (never the global generator: xunit runs classes in parallel).</summary>
internal static class DiffusionTestUtil
{
    public static Tensor Randn(long seed, params long[] shape)
    {
        using var g = new Generator((ulong)seed, CPU);
        return randn(shape, ScalarType.Float32, generator: g);
    }

    public static float[] RandomVector(long seed, int length, double std = 0.1)
    {
        using var z = Randn(seed, length);
        using var t = z.Times(std);
        return t.data<float>().ToArray();
    }

    public static float[] Values(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.data<float>().ToArray();
    }
}

/// <summary>Small models and prompts shared by the diffusion tests.</summary>
internal static class TinyTina
{
    public const int TextDim = 16;

    public static Tina.Diffusion.TinaTransformer Model(Tina.PModels.PModelArch arch, long seed = 1, bool merged = false)
    {
        var config = Tina.Diffusion.TinaConfig.Tiny with { TextDim = TextDim, Tokens = merged ? Tina.Diffusion.TokenLayout.MergedTextChunks : Tina.Diffusion.TokenLayout.Chunks };
        // Its Linear constructors draw from torch's global generator (the weights are then redrawn from its own
        // generator): keep those draws inside the seeded lock, where they cannot disturb a seeded creation elsewhere.
        return Tina.Runtime.Seeds.WithGlobalSeed(seed, () => new Tina.Diffusion.TinaTransformer(config, Tina.Diffusion.ParameterTokenizer.For(arch), seed));
    }

    public static Tensor Prompts(long seed, int batch) => DiffusionTestUtil.Randn(seed, batch, 10, TextDim);
}
