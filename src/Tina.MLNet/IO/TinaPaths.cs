namespace Tina.MLNet;

/// <summary>
/// Where the libraries keep data nobody named a folder for. The libraries read no environment variable and write
/// nothing into the working directory: every folder they write to is an option or a parameter (the CLI's
/// <c>--artifacts</c>, <c>TINA_ARTIFACTS</c>, …), and when one is left unset it is <see cref="DefaultDirectory"/>.
/// </summary>
public static class TinaPaths
{
    /// <summary>
    /// The one default folder of the libraries: <c>tina</c> under the user's local application data
    /// (<see cref="Environment.SpecialFolder.LocalApplicationData"/>: <c>~/.local/share/tina</c> on Linux,
    /// <c>%LOCALAPPDATA%\tina</c> on Windows, <c>~/Library/Application Support/tina</c> on macOS). Text encoders look
    /// for their data in <c>{DefaultDirectory}/text</c> unless given another folder; nothing is created here unless
    /// a download or conversion is asked for.
    /// </summary>
    public static string DefaultDirectory { get; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify) is { Length: > 0 } local
            ? local
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile, Environment.SpecialFolderOption.DoNotVerify), ".local", "share"),
        "tina");
}
