namespace TcpTalk.Hosting;

/// <summary>The <c>Journal</c> section: where every message is stored before it is printed or acknowledged (docs/JOURNAL.md).</summary>
public sealed class JournalSettings
{
    /// <summary>
    /// The SQLite journal file, relative to the working directory, or a PostgreSQL journal's
    /// <c>postgres://USER@HOST[:PORT][,HOST2...]/DATABASE[?schema=NAME]</c> URI (several nodes may share one). Default
    /// <c>tcptalk.db</c>: beside where the server was started (the unit in deploy/ starts it in /var/lib/tcptalk).
    /// </summary>
    public string Path { get; set; } = "tcptalk.db";

    /// <summary>
    /// The name this server stores with every message in a PostgreSQL journal (ignored by the SQLite journal), so
    /// nodes sharing one database stay apart. Default the host name.
    /// </summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>Store messages at all. Default true; false (<c>--no-journal</c>) hands messages to the sink only, like the classic server.</summary>
    public bool Enabled { get; set; } = true;
}
