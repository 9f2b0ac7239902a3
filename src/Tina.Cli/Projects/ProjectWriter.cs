using System.Reflection;
using System.Text;
using Tina.MLNet.Errors;

namespace Tina.Cli.Projects;

/// <summary>
/// Writes the projects of <c>tina new</c> from the templates embedded in this assembly (Projects/Templates): a console
/// project <c>NAME/</c> with the model, its consumption code, the spec and a <c>Program.cs</c>, and optionally an
/// ASP.NET Core minimal API <c>NAME.WebApi/</c> that shares the model and consumption code. Everything is written to a
/// temporary folder first and moved into place, so a failure leaves nothing half-written.
/// </summary>
internal static class ProjectWriter
{
    /// <summary>Writes the projects under <paramref name="outDir"/>; returns the folders written.</summary>
    /// <exception cref="TinaException">A target folder exists and is not empty (without <paramref name="force"/>).</exception>
    public static IReadOnlyList<string> Write(string outDir, TinaProjectSpec spec, byte[] mlnet, IReadOnlyDictionary<string, string> packages, bool force)
    {
        var name = spec.Name;
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Name"] = name,
            ["Namespace"] = name + "App", // not the class name itself: "FruitClassifier.Predict" would then name the namespace
            ["Prompt"] = string.Join(", ", spec.Classes).Replace("\"", "'", StringComparison.Ordinal),
            ["Method"] = spec.Method,
            ["LabelCount"] = spec.Classes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["LabelsCSharp"] = string.Join(", ", spec.Classes.Select(CSharpString)),
            ["TinaVersion"] = spec.TinaVersion ?? "",
            // The generated projects do not reference Tina: they get the numbers of Tina's image limits, and their own check.
            ["MaxImageBytes"] = Tina.MLNet.TinaImageLimits.Default.MaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MaxImagePixels"] = Tina.MLNet.TinaImageLimits.Default.MaxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MaxImageSide"] = Tina.MLNet.TinaImageLimits.Default.MaxSide.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["MaxImageLimits"] = Tina.MLNet.TinaImageLimits.Default.ToString(),
            ["PackageReferences"] = string.Join("\n", packages.Select(p => $"    <PackageReference Include=\"{p.Key}\" Version=\"{p.Value}\" />")),
        };
        var projects = new List<(string Folder, Dictionary<string, byte[]> Files)>
        {
            (name, new()
            {
                [$"{name}.csproj"] = Render("Console.csproj.txt", values),
                [$"{name}.consumption.cs"] = Render("Consumption.cs.txt", values),
                ["Program.cs"] = Render("Program.cs.txt", values),
                [$"{name}.mlnet"] = mlnet,
                [$"{name}.tina.json"] = Encoding.UTF8.GetBytes(spec.ToJson()),
            }),
        };
        if (spec.WebApi)
            projects.Add(($"{name}.WebApi", new()
            {
                [$"{name}.WebApi.csproj"] = Render("WebApi.csproj.txt", values),
                ["Program.cs"] = Render("WebApiProgram.cs.txt", values),
            }));

        Directory.CreateDirectory(outDir);
        foreach (var (folder, _) in projects)
        {
            var target = Path.Combine(outDir, folder);
            if (!force && Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
                throw new TinaException($"{target} exists and is not empty; choose another --out or --name, or pass --force to overwrite the generated files.");
        }
        var written = new List<string>();
        foreach (var (folder, files) in projects)
        {
            var target = Path.Combine(outDir, folder);
            var staging = Path.Combine(outDir, $".{folder}.tina-new-{Environment.ProcessId}");
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            Directory.CreateDirectory(staging);
            foreach (var (file, bytes) in files) File.WriteAllBytes(Path.Combine(staging, file), bytes);
            if (!Directory.Exists(target))
            {
                Directory.Move(staging, target);
            }
            else
            {
                // --force into an existing folder: replace only the generated files, each atomically.
                foreach (var (file, _) in files) File.Move(Path.Combine(staging, file), Path.Combine(target, file), overwrite: true);
                Directory.Delete(staging, recursive: true);
            }
            written.Add(target);
        }
        return written;
    }

    /// <summary>Whether <paramref name="name"/> can name the project, its class and its namespace (a plain C# identifier).</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 64 && (char.IsAsciiLetter(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        && !CSharpKeywords.Contains(name);

    private static readonly HashSet<string> CSharpKeywords = new(StringComparer.Ordinal)
    {
        "abstract", "as", "base", "bool", "break", "byte", "case", "catch", "char", "checked", "class", "const", "continue",
        "decimal", "default", "delegate", "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally",
        "fixed", "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal", "is", "lock",
        "long", "namespace", "new", "null", "object", "operator", "out", "override", "params", "private", "protected",
        "public", "readonly", "ref", "return", "sbyte", "sealed", "short", "sizeof", "stackalloc", "static", "string",
        "struct", "switch", "this", "throw", "true", "try", "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort",
        "using", "virtual", "void", "volatile", "while", "Microsoft", "System",
    };

    private static byte[] Render(string template, IReadOnlyDictionary<string, string> values)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"Tina.Cli.Projects.Templates.{template}")
            ?? throw new InvalidOperationException($"Template {template} is not embedded in the tina executable.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        foreach (var (key, value) in values) text = text.Replace("{{" + key + "}}", value, StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>A C# string literal of <paramref name="s"/> (class names have no control characters: the prompt parser rejects them).</summary>
    private static string CSharpString(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
