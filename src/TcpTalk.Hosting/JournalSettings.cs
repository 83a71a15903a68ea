namespace TcpTalk.Hosting;

/// <summary>The <c>Journal</c> section: where every message is stored before it is printed or acknowledged (docs/JOURNAL.md).</summary>
public sealed class JournalSettings
{
    /// <summary>
    /// The SQLite journal file, relative to the working directory. Default <c>tcptalk.db</c>: beside where the server
    /// was started (the unit in deploy/ starts it in /var/lib/tcptalk).
    /// </summary>
    public string Path { get; set; } = "tcptalk.db";

    /// <summary>Store messages at all. Default true; false (<c>--no-journal</c>) hands messages to the sink only, like the classic server.</summary>
    public bool Enabled { get; set; } = true;
}
