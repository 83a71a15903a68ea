namespace TcpTalk.Journal;

/// <summary>
/// Another writer holds the journal: a second server process, or a second <see cref="SqliteMessageJournal"/> in
/// this process. A journal has exactly one writer, so that ids stay consecutive and group commit stays one queue.
/// </summary>
public sealed class JournalInUseException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/> held by process <paramref name="processId"/> (null when unknown).</summary>
    public JournalInUseException(string path, int? processId)
        : base(Describe(path, processId))
    {
        Path = path;
        ProcessId = processId;
    }

    /// <summary>The journal's full path.</summary>
    public string Path { get; }

    /// <summary>The process that holds the journal, when it could be read from the lock file.</summary>
    public int? ProcessId { get; }

    private static string Describe(string path, int? processId) => processId switch
    {
        null => $"journal {path} is in use by another tcptalk process",
        int pid when pid == Environment.ProcessId => $"journal {path} is already open in this process (pid {pid})",
        int pid => $"journal {path} is in use by another tcptalk process (pid {pid})",
    };
}

/// <summary>
/// The file cannot be used as a journal: it is not an SQLite database, it is another program's database, or it was
/// written by a newer tcptalk whose schema this one does not know. Nothing was changed in the file.
/// </summary>
public sealed class JournalFormatException(string path, string message, Exception? innerException = null)
    : IOException(message, innerException)
{
    /// <summary>The journal's full path.</summary>
    public string Path { get; } = path;
}
