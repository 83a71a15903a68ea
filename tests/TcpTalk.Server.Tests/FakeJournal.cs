using System.Text;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>An in-memory journal: ids from 100, optional hook before each commit.</summary>
internal sealed class FakeJournal : IMessageJournal
{
    private long _next = 100;

    public Func<MessageBatch, Task>? BeforeCommit { get; set; }

    public List<string> Stored { get; } = [];

    public bool IsHealthy => true;

    public async ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        if (BeforeCommit is not null)
        {
            await BeforeCommit(batch);
        }

        lock (Stored)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Stored.Add(Encoding.UTF8.GetString(batch[i]));
            }

            long first = _next;
            _next += batch.Count;
            return first;
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
