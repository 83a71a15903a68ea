using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// File-system failures in words an operator can act on. The runtime's own messages cannot be used: NativeAOT
/// builds strip them to resource keys (<c>UseSystemResourceKeys</c>), so every failure is named here by its kind.
/// </summary>
internal static class FileErrors
{
    private const int ReadOnlyFileSystem = 30; // EROFS: the raw errno is the HResult of a plain IOException on Unix
    private const int NoSpace = 28;            // ENOSPC

    /// <summary>Why a file in <paramref name="folder"/> could not be created or opened.</summary>
    public static string Describe(Exception error, string folder) => error switch
    {
        UnauthorizedAccessException => $"permission denied (tcptalk may not create or write files in {folder})",
        FileNotFoundException or DirectoryNotFoundException => $"folder {folder} does not allow creating files (a virtual file system such as /proc?)",
        PathTooLongException => "the path is too long",
        IOException { HResult: ReadOnlyFileSystem } => $"folder {folder} is on a read-only file system",
        IOException { HResult: NoSpace } => "the disk is full",
        _ => $"{error.GetType().Name} in folder {folder}",
    };

    /// <summary>Throws the journal's error when <paramref name="fullPath"/> is a folder rather than a file.</summary>
    public static void RefuseDirectory(string fullPath)
    {
        if (Directory.Exists(fullPath))
        {
            throw new JournalUnavailableException($"journal {fullPath} cannot be opened: it is a directory; give a file path such as {Path.Combine(fullPath, "tcptalk.db")}");
        }
    }
}
