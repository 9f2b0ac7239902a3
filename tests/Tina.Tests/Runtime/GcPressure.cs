namespace Tina.Tests.Runtime;

/// <summary>
/// The harness of the Scalar-lifetime tests: runs a body while another thread forces garbage collections and runs
/// finalizers without pause, the condition under which a TorchSharp Scalar that nobody keeps alive is freed while
/// libtorch still reads it.
/// </summary>
internal static class GcPressure
{
    public static void Run(Action body)
    {
        var stop = 0;
        var gc = new Thread(() => { while (Volatile.Read(ref stop) == 0) { GC.Collect(); GC.WaitForPendingFinalizers(); } }) { IsBackground = true };
        gc.Start();
        try { body(); }
        finally { Volatile.Write(ref stop, 1); gc.Join(); }
    }
}
