using System.CommandLine;
using Spectre.Console;
using Tina.MLNet;

namespace Tina.Cli.Commands;

/// <summary><c>tina predict</c>: label and score of image files through an exported model (ONNX or ML.NET zip).</summary>
internal static class PredictCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "An exported .onnx or ML.NET .zip model.", Required = true };
        var images = new Option<string[]>("--image") { Description = "Image files (PNG/JPEG; resized to 32×32).", Required = true, AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("predict", $"Classify image files with an exported model through ML.NET's PredictionEngine. Images over {TinaImageLimits.Default} are refused before decoding.") { model, images };
        cmd.SetAction(Cli.Run((r, _) =>
        {
            using var predictor = TinaPredictor.Load(Path.GetFullPath(r.GetValue(model)!));
            var table = new Table().AddColumn("image").AddColumn("label").AddColumn(new TableColumn("score").RightAligned());
            foreach (var p in predictor.Predict(r.GetValue(images)!.Select(Path.GetFullPath)))
                table.AddRow(Markup.Escape(Path.GetFileName(p.Source)), Markup.Escape(p.Label), $"{p.Score:F3}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
