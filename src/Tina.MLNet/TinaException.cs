namespace Tina;

/// <summary>
/// Base type of every error caused by the caller's input or environment (a bad prompt, a missing or corrupt file,
/// an unknown class). The CLI prints <see cref="Exception.Message"/> without a stack trace and exits with a non-zero
/// code; anything that is not a <see cref="TinaException"/> is a bug and is reported with its stack trace.
/// </summary>
public class TinaException : Exception
{
    /// <summary>Creates the error with a message that names what is wrong and how to fix it.</summary>
    public TinaException(string message) : base(message) { }

    /// <summary>Creates the error with a message and the low-level exception that revealed it.</summary>
    public TinaException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A file that should exist (dataset archive, weights, model) is missing.</summary>
public sealed class TinaFileNotFoundException : TinaException
{
    /// <summary>Creates the error for <paramref name="path"/>, with a hint on how to obtain it.</summary>
    public TinaFileNotFoundException(string path, string hint)
        : base($"File not found: {path}. {hint}") => FilePath = path;

    /// <summary>The path that was looked for.</summary>
    public string FilePath { get; }
}

/// <summary>A file exists but its content is not what its format promises (truncated archive, bad header, wrong sizes).</summary>
public sealed class CorruptFileException : TinaException
{
    /// <summary>Creates the error for <paramref name="path"/> with what was found wrong.</summary>
    public CorruptFileException(string path, string problem, Exception? inner = null)
        : base($"Corrupt or unreadable file {path}: {problem}", inner ?? new InvalidDataException(problem)) => FilePath = path;

    /// <summary>The offending file.</summary>
    public string FilePath { get; }
}

/// <summary>A class list (prompt) is invalid: empty, too long, with duplicates or with classes the dataset or encoder does not know.</summary>
public sealed class InvalidPromptException : TinaException
{
    /// <summary>Creates the error with a message naming the offending classes.</summary>
    public InvalidPromptException(string message) : base(message) { }
}
