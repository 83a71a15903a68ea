using TcpTalk.Messages;

namespace TcpTalk.Hosting;

/// <summary>
/// The journal the server is given before the real one exists, so the server can bind its listeners first: a
/// <c>serve</c> that cannot listen (port in use) fails before it has created a journal file. An append that arrives
/// in the moment between bind and open waits for the open; if the open fails, it fails as the journal would.
/// </summary>
internal sealed class DeferredJournal : IMessageJournal
{
    private readonly TaskCompletionSource<IMessageJournal> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc/>
    public bool IsHealthy => !_opened.Task.IsCompleted || (_opened.Task.IsCompletedSuccessfully && _opened.Task.Result.IsHealthy);

    /// <summary>From now on every append goes to <paramref name="journal"/>, which this journal then owns.</summary>
    public void Opened(IMessageJournal journal) => _opened.TrySetResult(journal);

    /// <summary>The journal could not be opened: waiting and later appends fail with <paramref name="error"/>'s reason.</summary>
    public void Failed(Exception error) => _opened.TrySetException(new JournalUnavailableException($"the journal could not be opened: {error.Message}", error));

    /// <inheritdoc/>
    public ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken) =>
        _opened.Task.IsCompletedSuccessfully ? _opened.Task.Result.AppendAsync(batch, cancellationToken) : AppendOnceOpenAsync(batch, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_opened.Task.IsCompletedSuccessfully)
        {
            await _opened.Task.Result.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _opened.TrySetException(new JournalUnavailableException("the journal was closed before it was opened"));
        }
    }

    private async ValueTask<long> AppendOnceOpenAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        var journal = await _opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await journal.AppendAsync(batch, cancellationToken).ConfigureAwait(false);
    }
}
