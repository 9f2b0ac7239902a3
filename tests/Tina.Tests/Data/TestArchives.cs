using System.Formats.Tar;
using System.IO.Compression;
using SkiaSharp;

namespace Tina.Tests.Data;

/// <summary>A temp folder deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = TestData.TempDir();

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Small archives in the official layouts, built from generated JPEGs, for tests of the store's mechanics.</summary>
internal static class TestArchives
{
    /// <summary>The colour of each class of <see cref="WriteCaltech"/>, by folder name.</summary>
    public static readonly (string Folder, SKColor Colour)[] CaltechClasses =
    [
        ("blue_things", new SKColor(20, 40, 230)),
        ("Red_things", new SKColor(230, 30, 20)),
        ("green_things", new SKColor(30, 200, 40)),
    ];

    /// <summary>
    /// Writes a Caltech-101-layout <c>.tar.gz</c>: <see cref="CaltechClasses"/> with <paramref name="perClass"/> solid
    /// 48×40 JPEGs each, plus a BACKGROUND_Google image and a stray non-image file that the reader must skip.
    /// </summary>
    public static void WriteCaltech(string path, int perClass = 10)
    {
        using var fs = File.Create(path);
        using var gz = new GZipStream(fs, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        foreach (var (folder, colour) in CaltechClasses)
            for (int i = 1; i <= perClass; i++)
                Add(tar, $"101_ObjectCategories/{folder}/image_{i:0000}.jpg", Jpeg(colour, 48, 40));
        Add(tar, "101_ObjectCategories/BACKGROUND_Google/image_0001.jpg", Jpeg(SKColors.Gray, 48, 40));
        Add(tar, "101_ObjectCategories/blue_things/Thumbs.db", [1, 2, 3]);
    }

    /// <summary>A solid-colour JPEG.</summary>
    public static byte[] Jpeg(SKColor colour, int width, int height)
    {
        using var bmp = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        bmp.Erase(colour);
        using var data = bmp.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    private static void Add(TarWriter tar, string name, byte[] content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) };
        tar.WriteEntry(entry);
    }
}
