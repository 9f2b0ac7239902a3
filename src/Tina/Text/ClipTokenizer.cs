using System.IO.Compression;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Tina.Text;

/// <summary>
/// CLIP's text tokenizer (OpenAI <c>simple_tokenizer.py</c>), built on Microsoft.ML.Tokenizers' byte-level BPE from
/// the original merges list <c>bpe_simple_vocab_16e6.txt.gz</c>: text clean-up (HTML entities unescaped twice,
/// whitespace runs collapsed, trimmed), lower-casing, CLIP's pre-tokeniser regex, byte-level BPE with the end-of-word
/// suffix <c>&lt;/w&gt;</c>, then <c>&lt;|startoftext|&gt;</c> … <c>&lt;|endoftext|&gt;</c> padded with 0 (as
/// <c>clip.tokenize</c> does) or truncated to <see cref="ContextLength"/> tokens, the last one staying
/// <c>&lt;|endoftext|&gt;</c>.
/// </summary>
/// <remarks>
/// The vocabulary is derived from the merges exactly as CLIP does: the 256 byte symbols (in GPT-2's byte-to-unicode
/// order), the same 256 with <c>&lt;/w&gt;</c>, the concatenations of the first <see cref="MergeCount"/> merges,
/// then the two special tokens (ids 49406 and 49407). CLIP also runs <c>ftfy.fix_text</c> (mojibake repair) first;
/// that step is not reproduced, which only matters for mis-decoded input text.
/// </remarks>
public sealed class ClipTokenizer
{
    /// <summary>Sequence length of CLIP's text transformer.</summary>
    public const int ContextLength = 77;

    /// <summary>Number of merges CLIP uses (49,152 − 256 − 2).</summary>
    public const int MergeCount = 48_894;

    /// <summary>Id of <c>&lt;|startoftext|&gt;</c>.</summary>
    public const int StartOfText = 49_406;

    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int EndOfText = 49_407;

    /// <summary>Vocabulary size (ids are 0 .. 49,407).</summary>
    public const int VocabularySize = 49_408;

    /// <summary>File name of the merges list in the CLIP repository.</summary>
    public const string MergesFileName = "bpe_simple_vocab_16e6.txt.gz";

    private const string StartToken = "<|startoftext|>", EndToken = "<|endoftext|>";

    // CLIP's pattern (applied case-insensitively to lower-cased text): special tokens, English contractions, letter
    // runs, single digits, and runs of anything else that is not whitespace.
    private const string Pattern = @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    private static readonly Regex Whitespace = new(@"\s+", RegexOptions.Compiled);
    private readonly BpeTokenizer _bpe;

    /// <summary>Loads the merges list (gzip-compressed if the name ends in <c>.gz</c>, else plain text).</summary>
    /// <exception cref="TinaFileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CorruptFileException">The file has fewer than <see cref="MergeCount"/> merge lines.</exception>
    public ClipTokenizer(string mergesPath)
    {
        MergesPath = Path.GetFullPath(mergesPath);
        if (!File.Exists(MergesPath))
            throw new TinaFileNotFoundException(MergesPath,
                $"CLIP's merges list is {MergesFileName} from https://github.com/openai/CLIP (clip/{MergesFileName}).");
        var merges = ReadMerges(MergesPath);
        var specials = new Dictionary<string, int> { [StartToken] = StartOfText, [EndToken] = EndOfText };
        _bpe = BpeTokenizer.Create(new BpeOptions(BuildVocabulary(merges))
        {
            Merges = merges,
            SpecialTokens = specials,
            Normalizer = LowerCaseNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(new Regex(Pattern, RegexOptions.IgnoreCase | RegexOptions.Compiled), specials),
            EndOfWordSuffix = "</w>",
            ByteLevel = true,
        });
    }

    /// <summary>The merges file in use.</summary>
    public string MergesPath { get; }

    /// <summary>
    /// The standard location beside a data folder: <c>{dataRoot}/../models/clip/bpe_simple_vocab_16e6.txt.gz</c>
    /// (the shared data layout, <c>shared/data</c> next to <c>shared/models</c>).
    /// </summary>
    public static string DefaultMergesPath(string dataRoot) =>
        Path.GetFullPath(Path.Combine(dataRoot, "..", "models", "clip", MergesFileName));

    /// <summary>
    /// Looks for <c>shared/models/clip/bpe_simple_vocab_16e6.txt.gz</c> in <paramref name="startDirectory"/> and its
    /// ancestors (checking both <c>X/shared/...</c> and <c>X/../shared/...</c> style layouts by walking up); null if absent.
    /// </summary>
    public static string? FindMergesFile(string startDirectory)
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(startDirectory)); d is not null; d = d.Parent)
        {
            var candidate = Path.Combine(d.FullName, "shared", "models", "clip", MergesFileName);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>CLIP's clean-up: HTML entities unescaped (twice, as CLIP does), whitespace runs → one space, trimmed.</summary>
    public static string CleanText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return Whitespace.Replace(unescaped, " ").Trim();
    }

    /// <summary>The BPE ids of <paramref name="text"/>, without the start/end tokens and without padding or truncation.</summary>
    public IReadOnlyList<int> EncodeToIds(string text) => _bpe.EncodeToIds(CleanText(text));

    /// <summary>
    /// The <see cref="ContextLength"/> ids fed to CLIP's text transformer: <see cref="StartOfText"/>, the BPE ids, <see cref="EndOfText"/>,
    /// then zeros. A text longer than 75 BPE tokens is truncated, keeping <see cref="EndOfText"/> at position 76.
    /// </summary>
    public int[] Tokenize(string text)
    {
        var ids = EncodeToIds(text);
        var result = new int[ContextLength];
        result[0] = StartOfText;
        int n = Math.Min(ids.Count, ContextLength - 2);
        for (int i = 0; i < n; i++) result[i + 1] = ids[i];
        result[n + 1] = EndOfText;
        return result;
    }

    /// <summary>Row-major [texts.Count, <see cref="ContextLength"/>] ids of a batch (see <see cref="Tokenize"/>).</summary>
    public int[] TokenizeBatch(IReadOnlyList<string> texts)
    {
        var result = new int[texts.Count * ContextLength];
        for (int i = 0; i < texts.Count; i++) Tokenize(texts[i]).CopyTo(result, i * ContextLength);
        return result;
    }

    /// <summary>Whether <see cref="Tokenize"/> drops tokens of <paramref name="text"/> (more than 75 BPE tokens).</summary>
    public bool IsTruncated(string text) => EncodeToIds(text).Count > ContextLength - 2;

    private static List<string> ReadMerges(string path)
    {
        using var file = File.OpenRead(path);
        using Stream content = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(content);
        var merges = new List<string>(MergeCount);
        try
        {
            reader.ReadLine(); // version header
            string? line;
            while (merges.Count < MergeCount && (line = reader.ReadLine()) is not null)
            {
                var parts = line.Split(' ');
                if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                    throw new CorruptFileException(path, $"merge line {merges.Count + 2} is not two symbols: \"{line}\"");
                merges.Add(line);
            }
        }
        catch (InvalidDataException e)
        {
            throw new CorruptFileException(path, $"unreadable gzip stream: {e.Message}", e);
        }
        if (merges.Count < MergeCount)
            throw new CorruptFileException(path, $"{merges.Count} merges, CLIP needs {MergeCount}");
        return merges;
    }

    private static Dictionary<string, int> BuildVocabulary(List<string> merges)
    {
        var symbols = ByteSymbols();
        var vocab = new Dictionary<string, int>(VocabularySize, StringComparer.Ordinal);
        foreach (var s in symbols) vocab.Add(s, vocab.Count);
        foreach (var s in symbols) vocab.Add(s + "</w>", vocab.Count);
        foreach (var m in merges) vocab.TryAdd(m.Replace(" ", ""), vocab.Count);
        if (vocab.Count != StartOfText)
            throw new InvalidOperationException($"Derived {vocab.Count} BPE tokens, expected {StartOfText}.");
        vocab.Add(StartToken, StartOfText);
        vocab.Add(EndToken, EndOfText);
        return vocab;
    }

    /// <summary>GPT-2/CLIP byte-to-unicode table, in CLIP's vocabulary order: printable bytes map to themselves, the
    /// other bytes to U+0100 onwards.</summary>
    private static List<string> ByteSymbols()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var symbols = new List<string>(256);
        for (int b = 0; b < 256; b++) if (Printable(b)) symbols.Add(((char)b).ToString());
        int next = 0;
        for (int b = 0; b < 256; b++) if (!Printable(b)) symbols.Add(((char)(256 + next++)).ToString());
        return symbols;
    }
}
