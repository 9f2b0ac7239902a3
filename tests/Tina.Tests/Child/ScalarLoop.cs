using System.Diagnostics;
using Tina.Runtime;
using Tina.Tests.Runtime;
using static TorchSharp.torch;

namespace Tina.Tests.Child;

/// <summary>
/// The negative control of the Scalar-lifetime tests: a loop of the arithmetic of <c>ScalarLifetimeTests</c>, run in
/// a child process under the same <see cref="GcPressure"/> harness, written either with TorchSharp's own overloads
/// that build/BannedSymbols.txt bans (<c>banned</c>) or with <see cref="TensorMath"/>. The banned version is expected to
/// fail (a TorchSharp exception, wrong numbers, or a native crash of the process), which shows that the harness can
/// detect the bug the ban prevents; the safe version, in the same setting, is expected to survive. Exit code 3 and a
/// FAILED line when the loop noticed a failure itself, 0 and a SURVIVED line when it ran <c>iterations</c> iterations
/// or <c>seconds</c> seconds without one.
/// </summary>
internal static class ScalarLoop
{
    public static int Run(bool banned, int iterations, double seconds)
    {
        using var counter = zeros(1, dtype: ScalarType.Int64);
        using var f = ones(64);
        using var one = ones(64);
        var sw = Stopwatch.StartNew();
        int done = 0;
        string? failure = null;
        GcPressure.Run(() =>
        {
            for (; done < iterations && sw.Elapsed.TotalSeconds < seconds; done++)
            {
                try
                {
                    // Every temporary tensor is kept alive by the scope: an unscoped temporary (f.eq(one).all()) can
                    // itself be finalized during the next native call and crash even the safe loop.
                    using var scope = NewDisposeScope();
                    if (banned)
                    {
#pragma warning disable RS0030 // deliberate: TorchSharp's overloads that create a Scalar nobody keeps alive
                        counter.add_(1);                      // implicit Scalar(int) and a hidden alpha Scalar
                        f.mul_(0.5).add_(f);                  // f stays 1: 0.5·f + 0.5·f
                        f.div_(2.0).add_(0.5);                // and again: 1/2 + 1/2
#pragma warning restore RS0030
                    }
                    else
                    {
                        counter.PlusInPlace(1L);
                        f.TimesInPlace(0.5).PlusInPlace(f);
                        f.DivideInPlace(2.0).PlusInPlace(0.5);
                    }
                    if (done % 64 == 63)
                    {
                        long count = counter.item<long>();
                        if (count != done + 1) failure = $"counter is {count}, expected {done + 1}";
                        else if (!f.eq(one).all().item<bool>()) failure = "f changed: a call read a wrong Scalar";
                    }
                }
                catch (Exception e) { failure = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}"; }
                if (failure is not null) break;
            }
        });
        if (failure is not null)
        {
            Console.WriteLine($"FAILED after {done + 1} iterations, {sw.Elapsed.TotalSeconds:F1} s: {failure}");
            return 3;
        }
        Console.WriteLine($"SURVIVED {done} iterations, {sw.Elapsed.TotalSeconds:F1} s");
        return 0;
    }
}
