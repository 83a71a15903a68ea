namespace TcpTalk.Cli.Configuration;

/// <summary>The <c>Journal</c> section (env <c>TCPTALK_JOURNAL__*</c>): where every message is stored (docs/JOURNAL.md).</summary>
public sealed class JournalSettings
{
    /// <summary>
    /// The SQLite journal file, relative to the working directory. Default <c>tcptalk.db</c>: beside where the server
    /// was started (the unit in deploy/ starts it in /var/lib/tcptalk).
    /// </summary>
    public string Path { get; set; } = "tcptalk.db";

    /// <summary>Store messages at all. Default true; false (<c>--no-journal</c>) prints only, like the classic server.</summary>
    public bool Enabled { get; set; } = true;
}
