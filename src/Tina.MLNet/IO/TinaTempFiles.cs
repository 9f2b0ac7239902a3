using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Tina.MLNet;

/// <summary>
/// The ONNX models Tina hands to ML.NET's <c>ApplyOnnxModel</c> as files. ML.NET's OnnxTransformer reads its model
/// from a file for as long as it lives (saving a model re-reads it by path), and ML.NET 6 writes a model given as a
/// stream to <c>MLContext.TempFilePath</c> without ever deleting it (measured: the file stays after the transformer
/// and its chain are disposed). So Tina writes each model once to <c>{temp}/tina-mlnet/{process id}-{guid}.onnx</c>
/// itself and deletes it when the owner is done (<see cref="TinaPredictor.Dispose"/>), at the latest when the process
/// exits; files left by a killed process are deleted by the next process that writes one.
/// </summary>
internal static class TinaTempFiles
{
    private static readonly ConcurrentDictionary<string, byte> Live = new(StringComparer.Ordinal);
    private static int _started;

    /// <summary>The folder: <c>tina-mlnet</c> in the system temp folder.</summary>
    public static string Directory => Path.Combine(Path.GetTempPath(), "tina-mlnet");

    /// <summary>Writes <paramref name="bytes"/> to a new file in <see cref="Directory"/> and returns its path.</summary>
    public static string Write(byte[] bytes)
    {
        Start();
        var dir = System.IO.Directory.CreateDirectory(Directory).FullName;
        var path = Path.Combine(dir, $"{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.onnx");
        Live.TryAdd(path, 0);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Deletes <paramref name="path"/> (best effort: a file still open on Windows stays until the process exits).</summary>
    public static void Delete(string? path)
    {
        if (path is null) return;
        try
        {
            File.Delete(path);
            Live.TryRemove(path, out _);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still open (Windows): deleted at exit.
        }
    }

    private static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0) return;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var path in Live.Keys) Delete(path);
            try
            {
                if (System.IO.Directory.Exists(Directory) && !System.IO.Directory.EnumerateFileSystemEntries(Directory).Any())
                    System.IO.Directory.Delete(Directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process's file appeared meanwhile.
            }
        };
        RemoveOrphans();
    }

    /// <summary>Deletes the files of processes that no longer run (killed before their exit handler ran).</summary>
    private static void RemoveOrphans()
    {
        try
        {
            if (!System.IO.Directory.Exists(Directory)) return;
            foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*.onnx"))
            {
                var name = Path.GetFileName(file);
                int dash = name.IndexOf('-');
                if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid == Environment.ProcessId) continue;
                if (IsRunning(pid)) continue;
                try { File.Delete(file); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The folder is not ours to clean.
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
