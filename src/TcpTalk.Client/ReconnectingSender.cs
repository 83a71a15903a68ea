using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Sends every message appended to a spool to a server that acknowledges (<c>tcptalk serve --ack</c>), through
/// server restarts, network cuts and its own restarts: a message leaves the spool only once the server acknowledged
/// it, and after any retryable failure (<see cref="SendFailures.IsRetryable"/>) the sender resolves the name again,
/// reconnects with exponential backoff and jitter, and resends everything unacknowledged, in order.
/// </summary>
/// <remarks>
/// Delivery is at least once: when a connection breaks after the server stored a message but before its
/// acknowledgement arrived, the message is sent again and the server stores it twice. At most
/// <see cref="ReconnectingSenderOptions.MaxInFlight"/> messages are exposed to that per break.
/// Failures that would repeat forever (a message too long for the server, a TLS trust failure, a server that is not
/// a TcpTalk server) end <see cref="RunAsync"/> at once with that exception, as does an outage longer than
/// <see cref="ReconnectingSenderOptions.RetryFor"/> (with the last failure).
/// </remarks>
/// <example>
/// <code>
/// var sender = new ReconnectingSender("logs.example", 12345, new MemoryMessageSpool());
/// var run = sender.RunAsync();
/// await sender.AppendAsync([Encoding.UTF8.GetBytes("hello")]);
/// sender.CompleteAdding();
/// await run;                     // every message acknowledged
/// </code>
/// </example>
public sealed class ReconnectingSender
{
    private readonly string _host;
    private readonly int _port;
    private readonly ReconnectingSenderOptions _options;
    private readonly MessageFramer _framer;
    private readonly RetryBackoff _backoff;
    private readonly Pulse _appended = new();
    private readonly Pulse _spaceFreed = new();
    private volatile bool _addingCompleted;
    private long _ackedThrough;
    private long _maxSent;
    private long _delivered;
    private long _resent;
    private int _connections;
    private long _longestOutageTicks;
    private DateTimeOffset? _outageStart;

    /// <summary>Creates a sender of the messages in <paramref name="spool"/> to <paramref name="host"/>:<paramref name="port"/>; nothing happens before <see cref="RunAsync"/>.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public ReconnectingSender(string host, int port, IMessageSpool spool, ReconnectingSenderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(spool);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        _options = options ?? new ReconnectingSenderOptions();
        _options.Validate();
        _host = host;
        _port = port;
        Spool = spool;
        _framer = new MessageFramer(_options.Client.Framing, _options.Client.MaxMessageBytes);
        _backoff = new RetryBackoff(_options.InitialRetryDelay, _options.MaxRetryDelay, new Random());
    }

    /// <summary>The spool sent from.</summary>
    public IMessageSpool Spool { get; }

    /// <summary>Messages the server acknowledged (and that left the spool) so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Messages sent again after a reconnect; each may be stored twice (at least once delivery).</summary>
    public long Resent => Interlocked.Read(ref _resent);

    /// <summary>Connections opened so far; every one after the first is a reconnect.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>The longest time so far from a failure to the next acknowledgement (or idle connection).</summary>
    public TimeSpan LongestOutage => TimeSpan.FromTicks(Interlocked.Read(ref _longestOutageTicks));

    /// <summary>
    /// Stores <paramref name="messages"/> in the spool, after waiting while they would push it past
    /// <see cref="ReconnectingSenderOptions.MaxSpoolBytes"/> (backpressure: nothing is dropped); returns the last one's
    /// sequence number. When it returns, the messages are as durable as the spool makes them.
    /// </summary>
    /// <exception cref="ArgumentException">A message cannot be framed (too long, contains the terminator); nothing was stored.</exception>
    /// <exception cref="InvalidOperationException"><see cref="CompleteAdding"/> was called.</exception>
    public async Task<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (_addingCompleted)
        {
            throw new InvalidOperationException("CompleteAdding was called; no more messages can be appended");
        }

        long bytes = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            if (!_framer.CanCarry(messages[i].Span, out string? reason))
            {
                throw new ArgumentException($"message {i + 1} of the batch: {reason}", nameof(messages));
            }

            bytes += messages[i].Length;
        }

        while (true)
        {
            var freed = _spaceFreed.Next;
            var backlog = Spool.Backlog;
            if (backlog.Messages == 0 || backlog.Bytes + bytes <= _options.MaxSpoolBytes)
            {
                break;
            }

            await freed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        long last = Spool.Append(messages);
        _appended.Fire();
        return last;
    }

    /// <summary>Says that no more messages come: <see cref="RunAsync"/> ends once the spool is empty.</summary>
    public void CompleteAdding()
    {
        _addingCompleted = true;
        _appended.Fire();
    }

    /// <summary>
    /// Connects and sends until <see cref="CompleteAdding"/> was called and the spool is empty (every message
    /// acknowledged), reconnecting after every retryable failure. With nothing to send it does not connect at all.
    /// </summary>
    /// <exception cref="TalkClientException">A failure that is not retryable, or the last failure of an outage longer than <see cref="ReconnectingSenderOptions.RetryFor"/>.</exception>
    /// <exception cref="ProtocolException">The server is not a TcpTalk server.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var time = _options.Client.TimeProvider;
        int failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var appended = _appended.Next;
            if (Spool.Backlog.Messages == 0)
            {
                if (_addingCompleted)
                {
                    return;
                }

                await appended.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await SendOverOneConnectionAsync(() => failures = 0, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested && SendFailures.IsRetryable(e))
            {
                if (Spool.Backlog.Messages == 0 && _outageStart is null)
                {
                    // An idle connection closed (the server's idle timeout, a restart): nothing waits, so no outage
                    // begins; the next message reconnects.
                    continue;
                }

                failures++;
                var now = time.GetUtcNow();
                _outageStart ??= now;
                var delay = _backoff.Delay(failures);
                if (_options.RetryFor is { } limit && now - _outageStart.Value + delay > limit)
                {
                    ExceptionDispatchInfo.Throw(e);
                }

                _options.OnRetry?.Invoke(new SendRetry(failures, e, delay, Spool.Backlog));
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// One connection's life: resend everything unacknowledged, then send what is appended, taking acknowledgements
    /// as they come; returns when everything was sent and acknowledged and no more comes; throws when it breaks.
    /// </summary>
    private async Task SendOverOneConnectionAsync(Action progressed, CancellationToken cancellationToken)
    {
        var clientOptions = _options.Client;
        var time = clientOptions.TimeProvider;
        var acks = new ConcurrentQueue<long>();
        var ackArrived = new Pulse();
        var options = clientOptions.AcknowledgedCopy(frame =>
        {
            if (frame.Kind == ServerFrameKind.Acknowledgement)
            {
                acks.Enqueue(frame.AcknowledgedId);
                ackArrived.Fire();
            }
        });

        await using var client = await TalkClient.ConnectAsync(_host, _port, options, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _connections);
        var connectedAt = time.GetUtcNow();
        _options.OnConnected?.Invoke(new SenderConnected(client, _outageStart is { } start ? connectedAt - start : TimeSpan.Zero, Spool.Backlog));

        var inFlight = new Queue<long>();
        long next = Interlocked.Read(ref _ackedThrough); // everything after it is sent (again) on this connection
        var lastProgress = connectedAt;
        while (true)
        {
            var appended = _appended.Next;
            var acked = ackArrived.Next;
            if (TakeAcknowledgements(acks, inFlight))
            {
                progressed();
                EndOutage();
                lastProgress = time.GetUtcNow();
            }

            if (inFlight.Count < _options.MaxInFlight && Spool.Read(next, _options.MaxInFlight - inFlight.Count) is { Count: > 0 } batch)
            {
                using var bound = new CancellationTokenSource(clientOptions.AckTimeout, time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
                try
                {
                    foreach (var message in batch)
                    {
                        await client.SendAsync(message.Payload, linked.Token).ConfigureAwait(false);
                        inFlight.Enqueue(message.Sequence);
                        next = message.Sequence;
                        CountSent(message.Sequence);
                    }
                }
                catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TalkTimeoutException($"the server took no data for {DurationText.Format(clientOptions.AckTimeout)}");
                }

                continue;
            }

            if (inFlight.Count == 0)
            {
                EndOutage();
                if (_addingCompleted && Spool.Read(next, 1).Count == 0)
                {
                    await CompleteQuietlyAsync(client, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }

            if (client.ServerClosed.IsCompleted)
            {
                TakeAcknowledgements(acks, inFlight); // those that arrived just before the close count
                client.ThrowServerGone();
            }

            var waits = new List<Task> { acked, client.ServerClosed };
            if (inFlight.Count < _options.MaxInFlight)
            {
                waits.Add(appended);
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (inFlight.Count > 0)
            {
                var left = clientOptions.AckTimeout - (time.GetUtcNow() - lastProgress);
                if (left <= TimeSpan.Zero)
                {
                    throw new NotAcknowledgedException(inFlight.Count, [], $"{inFlight.Count} message(s) were not acknowledged within {DurationText.Format(clientOptions.AckTimeout)} (does the server acknowledge? tcptalk serve does with --ack)");
                }

                waits.Add(Task.Delay(left, time, wake.Token));
            }

            await Task.WhenAny(waits).WaitAsync(cancellationToken).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Removes what the server acknowledged since the last call from the spool; true if anything was.</summary>
    private bool TakeAcknowledgements(ConcurrentQueue<long> acks, Queue<long> inFlight)
    {
        long through = 0;
        while (inFlight.Count > 0 && acks.TryDequeue(out _))
        {
            through = inFlight.Dequeue(); // acknowledgements come in the order the messages were sent
            Interlocked.Increment(ref _delivered);
        }

        if (through == 0)
        {
            return false;
        }

        Spool.Acknowledge(through);
        Interlocked.Exchange(ref _ackedThrough, through);
        _spaceFreed.Fire();
        return true;
    }

    private void CountSent(long sequence)
    {
        if (sequence <= _maxSent)
        {
            Interlocked.Increment(ref _resent);
        }
        else
        {
            _maxSent = sequence;
        }
    }

    private void EndOutage()
    {
        if (_outageStart is { } start)
        {
            long ticks = (_options.Client.TimeProvider.GetUtcNow() - start).Ticks;
            if (ticks > Interlocked.Read(ref _longestOutageTicks))
            {
                Interlocked.Exchange(ref _longestOutageTicks, ticks);
            }

            _outageStart = null;
        }
    }

    /// <summary>Half-closes and waits for the server's close; everything is acknowledged, so a failure here loses nothing.</summary>
    private static async Task CompleteQuietlyAsync(TalkClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && SendFailures.IsRetryable(e))
        {
        }
    }
}
