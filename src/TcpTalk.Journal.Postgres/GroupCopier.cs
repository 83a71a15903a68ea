using Npgsql;
using NpgsqlTypes;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// Writes one group's rows with one binary COPY. Owned by the journal's writer task alone: it reuses one buffer for
/// the group's message bytes, which grows to the largest group seen (bounded by <see cref="PostgresJournalOptions.MaxMessagesPerCommit"/>).
/// </summary>
internal sealed class GroupCopier(string schema, string node)
{
    private readonly string _copySql = $"COPY {PostgresJournalSchema.Quote(schema)}.messages (id, node_name, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, unique_id, raw) FROM STDIN (FORMAT BINARY)";
    private readonly string _node = node;
    private byte[] _arena = new byte[64 * 1024];

    /// <summary>Copies the group's message bytes into one reused buffer (a batch's bytes are a span, which COPY's async writes cannot take).</summary>
    public ReadOnlyMemory<byte>[] CopyIntoArena(List<PendingAppend> group)
    {
        long total = TotalBytes(group);
        int count = group.Sum(p => p.Batch.Count);

        if (total > _arena.Length)
        {
            _arena = new byte[(int)Math.Min(Array.MaxLength, Math.Max(total, (long)_arena.Length * 2))];
        }

        var slices = new ReadOnlyMemory<byte>[count];
        int offset = 0;
        int index = 0;
        foreach (var pending in group)
        {
            for (int i = 0; i < pending.Batch.Count; i++)
            {
                var message = pending.Batch[i];
                message.CopyTo(_arena.AsSpan(offset));
                slices[index++] = _arena.AsMemory(offset, message.Length);
                offset += message.Length;
            }
        }

        return slices;
    }

    public static long TotalBytes(List<PendingAppend> group)
    {
        long total = 0;
        foreach (var pending in group)
        {
            for (int i = 0; i < pending.Batch.Count; i++)
            {
                total += pending.Batch[i].Length;
            }
        }

        return total;
    }

    public async Task CopyRowsAsync(NpgsqlConnection connection, List<PendingAppend> group, ReadOnlyMemory<byte>[] slices, long firstId)
    {
        long id = firstId;
        int index = 0;
        await using var copy = await connection.BeginBinaryImportAsync(_copySql).ConfigureAwait(false);
        foreach (var pending in group)
        {
            var batch = pending.Batch;
            pending.FirstId = id;
            var c = batch.Connection;
            string local = c.LocalAddressText;
            string remote = c.RemoteAddressText;
            long receivedUs = UnixMicros.From(batch.ReceivedAt);
            int codePage = batch.Encoding.CodePage;
            for (int i = 0; i < batch.Count; i++)
            {
                await copy.StartRowAsync().ConfigureAwait(false);
                await copy.WriteAsync(id++, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await copy.WriteAsync(_node, NpgsqlDbType.Text).ConfigureAwait(false);
                await copy.WriteAsync(receivedUs, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await copy.WriteAsync(local, NpgsqlDbType.Text).ConfigureAwait(false);
                await copy.WriteAsync(c.LocalPort, NpgsqlDbType.Integer).ConfigureAwait(false);
                await copy.WriteAsync(remote, NpgsqlDbType.Text).ConfigureAwait(false);
                await copy.WriteAsync(c.RemotePort, NpgsqlDbType.Integer).ConfigureAwait(false);
                await copy.WriteAsync(c.Id, NpgsqlDbType.Bigint).ConfigureAwait(false);
                await copy.WriteAsync(codePage, NpgsqlDbType.Integer).ConfigureAwait(false);
                if (c.UniqueId is { } uniqueId)
                {
                    await copy.WriteAsync(uniqueId, NpgsqlDbType.Bytea).ConfigureAwait(false);
                }
                else
                {
                    await copy.WriteNullAsync().ConfigureAwait(false);
                }

                await copy.WriteAsync(slices[index++], NpgsqlDbType.Bytea).ConfigureAwait(false);
            }
        }

        await copy.CompleteAsync().ConfigureAwait(false);
    }
}
