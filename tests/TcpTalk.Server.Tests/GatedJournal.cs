using System.Text;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>
/// A journal whose commits the test ends one by one: every append gets its ids at once (from 100, in the order the
/// appends are made) and completes only when the test calls <see cref="Commit"/> or <see cref="Fail"/> for it.
/// </summary>
internal sealed class GatedJournal : IMessageJournal
{
    private readonly List<(string[] Texts, long First, TaskCompletionSource<long> Done)> _appends = [];
    private long _next = 100;

    public bool IsHealthy => true;

    /// <summary>How many appends were made so far.</summary>
    public int Appends
    {
        get
        {
            lock (_appends)
            {
                return _appends.Count;
            }
        }
    }

    /// <summary>The texts of append <paramref name="index"/> (0 = the first made).</summary>
    public string[] Texts(int index)
    {
        lock (_appends)
        {
            return _appends[index].Texts;
        }
    }

    public ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        var texts = new string[batch.Count];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = Encoding.UTF8.GetString(batch[i]);
        }

        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_appends)
        {
            _appends.Add((texts, _next, done));
            _next += texts.Length;
        }

        return new ValueTask<long>(done.Task);
    }

    /// <summary>Completes append <paramref name="index"/> as stored.</summary>
    public void Commit(int index)
    {
        lock (_appends)
        {
            _appends[index].Done.SetResult(_appends[index].First);
        }
    }

    /// <summary>Fails append <paramref name="index"/> with <paramref name="reason"/>.</summary>
    public void Fail(int index, string reason)
    {
        lock (_appends)
        {
            _appends[index].Done.SetException(new JournalUnavailableException(reason));
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
