using System.Globalization;
using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// The journal's tables in the chosen schema, and how an older version is brought up to date. The version is the one
/// row of <c>SCHEMA.schema_version</c>; every server upgrades at start, one at a time (a transaction-scoped advisory
/// lock), so nodes started together never race. docs/SCALING.md describes every column.
/// </summary>
internal static class PostgresJournalSchema
{
    /// <summary>Version 1: one row per message of every node, and the id counter. <c>{0}</c> is the quoted schema.</summary>
    private const string Version1 = """
        CREATE TABLE {0}.id_counter (
            last_id bigint NOT NULL               -- the highest id handed out; one row, updated by each commit
        );
        INSERT INTO {0}.id_counter VALUES (0);
        CREATE TABLE {0}.messages (
            id             bigint  PRIMARY KEY,    -- 1, 2, 3...: in commit order across every node, no gaps
            node_name      text    NOT NULL,       -- the server that received the message (--node-name)
            received_us    bigint  NOT NULL,       -- UTC receive time, microseconds since 1970-01-01T00:00:00Z
            local_address  text    NOT NULL,       -- the server address the client reached (IPv4-mapped shown as IPv4)
            local_port     integer NOT NULL,
            client_address text    NOT NULL,       -- the client's address as shown in the greeting and output
            client_port    integer NOT NULL,
            connection_id  bigint  NOT NULL,       -- the server process's connection number (restarts at 1)
            code_page      integer NOT NULL,       -- the server's text encoding (65001 = UTF-8, 936 = GBK...)
            unique_id      bytea,                  -- the PROXY protocol v2 UNIQUE_ID TLV, when the balancer sent one
            raw            bytea   NOT NULL        -- the message bytes exactly as received, terminator excluded
        );
        """;

    /// <summary><c>Steps[v]</c> turns version v into v + 1. Never edit a released step; append a new one.</summary>
    public static IReadOnlyList<string> Steps { get; } = [Version1];

    /// <summary>The version this build writes and reads.</summary>
    public static int CurrentVersion => Steps.Count;

    /// <summary>The schema name quoted for SQL (it is a plain identifier, checked when parsed).</summary>
    public static string Quote(string schema) => "\"" + schema + "\"";

    /// <summary>The LISTEN/NOTIFY channel of a schema's journal: one NOTIFY per commit, a wake-up only.</summary>
    public static string Channel(string schema) => "tcptalk_" + schema;

    /// <summary>Creates or upgrades the schema; returns the version found (0 when it was created).</summary>
    /// <exception cref="PostgresJournalFormatException">The schema is from a newer tcptalk.</exception>
    public static async Task<int> UpgradeAsync(NpgsqlConnection connection, string schema, IReadOnlyList<string> steps, string uri, CancellationToken cancellationToken)
    {
        string q = Quote(schema);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // One upgrader at a time per schema: the lock ends with the transaction.
        await ExecuteAsync(connection, $"SELECT pg_advisory_xact_lock(hashtext('tcptalk journal ' || '{schema}'))", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {q}; CREATE TABLE IF NOT EXISTS {q}.schema_version (version integer NOT NULL)", cancellationToken).ConfigureAwait(false);
        int from = await ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false) ?? 0;
        RefuseNewer(uri, schema, from, steps.Count);
        for (int version = from; version < steps.Count; version++)
        {
            await ExecuteAsync(connection, string.Format(CultureInfo.InvariantCulture, steps[version], q), cancellationToken).ConfigureAwait(false);
        }

        if (from != steps.Count)
        {
            await ExecuteAsync(connection, $"DELETE FROM {q}.schema_version; INSERT INTO {q}.schema_version VALUES ({steps.Count})", cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return from;
    }

    /// <summary>The schema's version, or null when it holds no journal.</summary>
    public static async Task<int?> ReadVersionAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT to_regclass('{Quote(schema)}.schema_version') IS NOT NULL", connection);
        if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            return null;
        }

        command.CommandText = $"SELECT max(version) FROM {Quote(schema)}.schema_version";
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is int version ? version : null;
    }

    public static void RefuseNewer(string uri, string schema, int version, int known)
    {
        if (version > known)
        {
            throw new PostgresJournalFormatException($"journal {uri} (schema {schema}) has schema version {version}, newer than this tcptalk's {known}; use a newer tcptalk");
        }
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>The database holds something under the journal's schema that this tcptalk cannot use.</summary>
public sealed class PostgresJournalFormatException(string message) : Exception(message);
