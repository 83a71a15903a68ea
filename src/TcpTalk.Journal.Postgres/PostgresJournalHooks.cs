using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>Test seams of the writer; all null in production.</summary>
internal sealed class PostgresJournalHooks
{
    /// <summary>Runs after the rows are copied and before COMMIT, on the writer's connection.</summary>
    public Func<NpgsqlConnection, Task>? BeforeCommitAsync { get; init; }
}
