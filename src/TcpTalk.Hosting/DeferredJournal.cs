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
    private readonly Lock _orderGate = new();
    private Task _lastMade = Task.CompletedTask;

    /// <inheritdoc/>
    public bool IsHealthy => !_opened.Task.IsCompleted || (_opened.Task.IsCompletedSuccessfully && _opened.Task.Result.IsHealthy);

    /// <summary>From now on every append goes to <paramref name="journal"/>, which this journal then owns.</summary>
    public void Opened(IMessageJournal journal) => _opened.TrySetResult(journal);

    /// <summary>The journal could not be opened: waiting and later appends fail with <paramref name="error"/>'s reason.</summary>
    public void Failed(Exception error) => _opened.TrySetException(new JournalUnavailableException($"the journal could not be opened: {error.Message}", error));

    /// <inheritdoc/>
    public ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken) =>
        _opened.Task.IsCompletedSuccessfully && Volatile.Read(ref _lastMade).IsCompleted
            ? _opened.Task.Result.AppendAsync(batch, cancellationToken)
            : AppendOnceOpenAsync(batch, cancellationToken);

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
        // Appends that wait for the open reach the journal in the order they were made (IMessageJournal's contract):
        // each one makes its append only after the one before it made its own.
        var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task before;
        lock (_orderGate)
        {
            before = _lastMade;
            _lastMade = made.Task;
        }

        try
        {
            await before.ConfigureAwait(false);
            var journal = await _opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            var append = journal.AppendAsync(batch, cancellationToken);
            made.TrySetResult();
            return await append.ConfigureAwait(false);
        }
        finally
        {
            made.TrySetResult();
        }
    }
}
