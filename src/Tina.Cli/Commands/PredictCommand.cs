using System.CommandLine;
namespace Tina.Cli.Commands;
internal static class PredictCommand { public static Command Create() => new("predict", "Predict images."); }
