using Npgsql;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// A follow's own connection to the primary, which LISTENs on the journal's channel: a NOTIFY only sets a flag, and the
/// next read takes every row above the last id returned.
/// </summary>
internal sealed class JournalFollower(PostgresJournalReader reader) : IAsyncDisposable
{
    private volatile bool _woken = true;

    public NpgsqlConnection? Connection { get; private set; }

    public long Seen { get; set; }

    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = await reader.OpenAsync(reader.FollowTarget, cancellationToken).ConfigureAwait(false);
        connection.Notification += (_, _) => _woken = true;
        await PostgresJournalSchema.ExecuteAsync(connection, $"LISTEN \"{PostgresJournalSchema.Channel(reader.Schema)}\"", cancellationToken).ConfigureAwait(false);
        Connection = connection;
        _woken = true; // look once right away: commits may have come while there was no connection
    }

    public async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await DisposeAsync().ConfigureAwait(false);
            await Task.Delay(reader.Options.ReconnectDelay, cancellationToken).ConfigureAwait(false);
            try
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
            {
                // The database is still away; try again after the delay.
            }
        }
    }

    /// <summary>Waits for a wake-up (or the fallback interval), then returns the next page of new matching records (maybe none).</summary>
    public async Task<List<JournalRecord>> NextAsync(JournalQuery filters, CancellationToken cancellationToken)
    {
        var connection = Connection!;
        if (!_woken)
        {
            await connection.WaitAsync(reader.Options.FallbackPollInterval, cancellationToken).ConfigureAwait(false);
        }

        _woken = false;
        // One round trip: ids are gapless and in commit order, so whatever is visible above Seen is exactly what
        // is new, with no need for an upper bound taken first.
        var (matches, rows, lastRead) = await PostgresJournalReader.ReadPageAsync(connection, reader.Schema, filters, Seen, long.MaxValue, descending: false, cancellationToken).ConfigureAwait(false);
        if (rows > 0)
        {
            Seen = lastRead;
        }

        if (rows == PostgresJournalReader.PageSize)
        {
            _woken = true; // more to read: no waiting before the next page
        }

        return matches;
    }

    public async ValueTask DisposeAsync()
    {
        var connection = Connection;
        Connection = null;
        if (connection is not null)
        {
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A broken connection may fail to close; it is released regardless.
            }
        }
    }
}
