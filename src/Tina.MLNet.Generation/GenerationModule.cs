using System.Runtime.CompilerServices;

namespace Tina.MLNet.Generation;

/// <summary>Opts out of ONNX Runtime's telemetry (<see cref="OnnxRuntimeTelemetry"/>) before the CLIP and MiniLM encoders of this assembly can start ONNX Runtime.</summary>
internal static class TinaGenerationModule
{
#pragma warning disable CA2255 // A library's module initializer: the opt-out must precede ONNX Runtime's start.
    [ModuleInitializer]
    internal static void Initialize() => OnnxRuntimeTelemetry.OptOut();
#pragma warning restore CA2255
}
