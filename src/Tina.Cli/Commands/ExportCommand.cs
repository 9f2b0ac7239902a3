using System.CommandLine;
namespace Tina.Cli.Commands;
internal static class ExportCommand { public static Command Create() => new("export", "Export an ONNX classifier."); }
