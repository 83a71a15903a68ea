using Microsoft.Extensions.Logging;
using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>What an acknowledgement means on the host the journal writes to: is there a synchronous standby, and does COMMIT wait for it?</summary>
internal static class ReplicationCheck
{
    /// <summary>
    /// Logs whether <paramref name="host"/> has a synchronous standby that COMMIT waits for; returns true, false, or
    /// null when the user may not see <c>pg_stat_replication</c>.
    /// </summary>
    public static async Task<bool?> LogAsync(NpgsqlConnection connection, ILogger logger, string uri, string host, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit'),
                   (SELECT string_agg(application_name || ' ' || sync_state, ', ') FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')),
                   (SELECT count(*) FROM pg_stat_replication WHERE sync_state IS NULL)
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        string names = reader.GetString(0);
        string synchronousCommit = reader.GetString(1);
        string? synchronous = reader.IsDBNull(2) ? null : reader.GetString(2);
        long hidden = reader.GetInt64(3);
        bool waits = synchronousCommit is not ("off" or "local");
        if (names.Length == 0)
        {
            PostgresJournalLog.NoSynchronousStandby(logger, uri, host, "synchronous_standby_names is empty", synchronousCommit);
            return false;
        }
        else if (!waits)
        {
            PostgresJournalLog.NoSynchronousStandby(logger, uri, host, $"synchronous_commit={synchronousCommit} does not wait for it", synchronousCommit);
            return false;
        }
        else if (synchronous is not null)
        {
            PostgresJournalLog.SynchronousStandby(logger, uri, host, synchronous, synchronousCommit);
            return true;
        }
        else if (hidden > 0)
        {
            PostgresJournalLog.NoSynchronousStandby(logger, uri, host, $"synchronous_standby_names is '{names}' but this user may not see pg_stat_replication (grant pg_monitor)", synchronousCommit);
            return null;
        }
        else
        {
            PostgresJournalLog.NoSynchronousStandby(logger, uri, host, $"synchronous_standby_names is '{names}' but no standby streams synchronously now, so commits wait until one does", synchronousCommit);
            return false;
        }
    }
}
