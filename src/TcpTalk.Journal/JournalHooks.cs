using Microsoft.Data.Sqlite;

namespace TcpTalk.Journal;

/// <summary>Points where tests pause the writer or make it fail. Unset in production.</summary>
internal sealed class JournalHooks
{
    /// <summary>Awaited by the writer before it takes the queued batches for the next transaction.</summary>
    public Func<Task>? BeforeTransactionAsync { get; set; }

    /// <summary>Called inside each transaction after the inserts, before COMMIT; throwing makes the commit fail.</summary>
    public Action? BeforeCommit { get; set; }

    /// <summary>Called with every writer connection the journal opens, after its pragmas.</summary>
    public Action<SqliteConnection>? ConnectionOpened { get; set; }
}
