using System.CommandLine;
namespace Tina.Cli.Commands;
internal static class DataCommands { public static Command Create() => new("data", "Datasets: list, fetch."); }
