using System.Threading.Channels;

namespace TcpTalk.Messages;

/// <summary>
/// Where received messages go: the console output, a journal, a library user's code. Called by the connection's
/// own receive loop, so a slow sink slows that connection's reads (TCP flow control then slows the client) and
/// nothing else.
/// </summary>
public interface IMessageSink
{
    /// <summary>
    /// Takes the messages of one read. The batch's bytes are valid until the returned task completes. Throwing
    /// closes that connection only. <paramref name="cancellationToken"/> is cancelled when the server stops waiting
    /// (a stop past its shutdown timeout): a sink that waits should then give up, or it holds the stop.
    /// </summary>
    ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken);
}

/// <summary>Ready-made sinks.</summary>
public static class MessageSinks
{
    /// <summary>A sink that drops everything.</summary>
    public static IMessageSink None { get; } = new DelegateSink(static (_, _) => ValueTask.CompletedTask);

    /// <summary>A sink that calls <paramref name="onMessage"/> with an owned copy of every message.</summary>
    public static IMessageSink FromDelegate(Action<ReceivedMessage> onMessage)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        return new DelegateSink((batch, _) =>
        {
            foreach (var message in batch.ToMessages())
            {
                onMessage(message);
            }

            return ValueTask.CompletedTask;
        });
    }

    /// <summary>Calls each sink in turn.</summary>
    public static IMessageSink Combine(params IMessageSink[] sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        return sinks.Length == 1 ? sinks[0] : new DelegateSink(async (batch, ct) =>
        {
            foreach (var sink in sinks)
            {
                await sink.OnMessagesAsync(batch, ct).ConfigureAwait(false);
            }
        });
    }

    private sealed class DelegateSink(Func<MessageBatch, CancellationToken, ValueTask> onBatch) : IMessageSink
    {
        public ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken) => onBatch(batch, cancellationToken);
    }
}

/// <summary>
/// A sink that hands messages out as an <see cref="IAsyncEnumerable{T}"/>. Bounded: when the reader falls behind,
/// connections wait (backpressure) rather than the queue growing without limit.
/// </summary>
public sealed class ChannelMessageSink : IMessageSink
{
    private readonly Channel<ReceivedMessage> _channel;

    /// <summary>Creates the sink holding at most <paramref name="capacity"/> unread messages.</summary>
    public ChannelMessageSink(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _channel = Channel.CreateBounded<ReceivedMessage>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <inheritdoc/>
    public async ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        foreach (var message in batch.ToMessages())
        {
            await _channel.Writer.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads messages as they arrive until <see cref="Complete"/> is called or the token is cancelled.</summary>
    public IAsyncEnumerable<ReceivedMessage> ReadAllAsync(CancellationToken cancellationToken = default) =>
        _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Ends <see cref="ReadAllAsync"/> once the queued messages are read.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
