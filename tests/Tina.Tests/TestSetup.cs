using System.Runtime.CompilerServices;

namespace Tina.Tests;

/// <summary>
/// What the tests take from the environment, as the CLI does (the libraries read no environment variable):
/// <c>TINA_THREADS</c> sets TorchSharp's default thread count, so in-process generation and the <c>tina</c> processes
/// the tests start (which get the same count) give the same bytes.
/// </summary>
internal static class TestSetup
{
    [ModuleInitializer]
    internal static void FromEnvironment()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("TINA_THREADS"), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out var threads) && threads > 0)
            Tina.Runtime.TorchRuntime.DefaultThreads = threads;
    }
}
