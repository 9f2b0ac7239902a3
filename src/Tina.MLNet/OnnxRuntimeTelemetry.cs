using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Tina.MLNet;

/// <summary>
/// ONNX Runtime's telemetry, which Tina's libraries turn off. The official ONNX Runtime 1.31 builds for Linux and
/// macOS (the <c>Microsoft.ML.OnnxRuntime</c> package, which ML.NET's <c>ApplyOnnxModel</c> and Tina use) collect
/// usage events: on first use they write a device id and an event database under
/// <c>~/.cache/Microsoft/DeveloperTools/.onnxruntime</c> and upload events to Microsoft (measured here: both files
/// appear in the home folder of an app that only predicts). A library must not write files or open connections its
/// caller did not ask for, so before ONNX Runtime starts, Tina sets <c>ORT_DISABLE_TELEMETRY=1</c> for the process —
/// ONNX Runtime's documented full opt-out on Linux and macOS — unless the variable is already set.
/// </summary>
/// <remarks>
/// <para>It happens when the <c>Tina.MLNet</c> or <c>Tina.MLNet.Generation</c> assembly is first used, and applies
/// to the whole process (ONNX Runtime reads the variable once, when it starts). If the app used ONNX Runtime before
/// any Tina type, ONNX Runtime has already decided.</para>
/// <para>To keep ONNX Runtime's telemetry on, set <c>ORT_DISABLE_TELEMETRY=0</c> in the environment, or the runtime
/// switch <see cref="AllowTelemetrySwitch"/> (in the project file:
/// <c>&lt;RuntimeHostConfigurationOption Include="Tina.MLNet.AllowOnnxRuntimeTelemetry" Value="true" /&gt;</c>).
/// On Windows, ONNX Runtime reports through Windows' own event tracing and this variable does not apply; Tina
/// changes nothing there.</para>
/// </remarks>
public static class OnnxRuntimeTelemetry
{
    /// <summary>The environment variable ONNX Runtime reads: <c>ORT_DISABLE_TELEMETRY</c>.</summary>
    public const string EnvironmentVariable = "ORT_DISABLE_TELEMETRY";

    /// <summary>The <see cref="AppContext"/> switch that leaves ONNX Runtime's telemetry as ONNX Runtime decides.</summary>
    public const string AllowTelemetrySwitch = "Tina.MLNet.AllowOnnxRuntimeTelemetry";

    private static int _applied;

    /// <summary>Whether Tina set <c>ORT_DISABLE_TELEMETRY=1</c> in this process (false when the variable was already set, the switch allows telemetry, or on Windows).</summary>
    public static bool DisabledByTina { get; private set; }

    /// <summary>Sets <c>ORT_DISABLE_TELEMETRY=1</c> once, unless it is set, the switch allows telemetry, or the OS is Windows.</summary>
    internal static void OptOut()
    {
        if (Interlocked.Exchange(ref _applied, 1) != 0) return;
        if (OperatingSystem.IsWindows()) return;
        if (AppContext.TryGetSwitch(AllowTelemetrySwitch, out bool allow) && allow) return;
        try
        {
            // The native environment, which ONNX Runtime reads (Environment.SetEnvironmentVariable changes only .NET's copy on Unix).
            if (NativeGetEnv(EnvironmentVariable) != IntPtr.Zero) return;
            DisabledByTina = NativeSetEnv(EnvironmentVariable, "1", overwrite: 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A libc without setenv: nothing to do.
        }
    }

    [DllImport("libc", EntryPoint = "getenv")]
    private static extern IntPtr NativeGetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name);

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int NativeSetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);
}

/// <summary>Opts out of ONNX Runtime's telemetry before any code of this assembly can start ONNX Runtime.</summary>
internal static class TinaMLNetModule
{
#pragma warning disable CA2255 // A library's module initializer: the opt-out must precede ONNX Runtime's start, whichever Tina type is used first.
    [ModuleInitializer]
    internal static void Initialize() => OnnxRuntimeTelemetry.OptOut();
#pragma warning restore CA2255
}
