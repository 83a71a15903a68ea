using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Messages;

/// <summary>
/// The complete messages that one read of one connection produced, in order. Valid only until the sink's
/// <see cref="IMessageSink.OnMessagesAsync"/> completes: the bytes live in the connection's pooled buffer.
/// </summary>
public readonly struct MessageBatch
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private readonly ReadOnlyMemory<(int Start, int Length)> _messages;

    /// <summary>
    /// Creates a batch over <paramref name="buffer"/> without copying: message <c>i</c> is the
    /// <c>messages[i].Length</c> bytes at <c>messages[i].Start</c>. This is how the server builds the batch of one
    /// read; <see cref="FromMessages"/> is the convenient form for tests and custom sources.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A range lies outside <paramref name="buffer"/>.</exception>
    public MessageBatch(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding,
        ReadOnlyMemory<byte> buffer, ReadOnlyMemory<(int Start, int Length)> messages)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(encoding);
        foreach (var (start, length) in messages.Span)
        {
            // One unsigned comparison per bound: cheap enough for the server's hot path, and a bad range fails here
            // rather than as a slice exception inside a sink or store.
            if ((uint)start > (uint)buffer.Length || (uint)length > (uint)(buffer.Length - start))
            {
                throw new ArgumentOutOfRangeException(nameof(messages), $"range ({start}, {length}) lies outside the {buffer.Length}-byte buffer");
            }
        }

        Connection = connection;
        ReceivedAt = receivedAt;
        Encoding = encoding;
        _buffer = buffer;
        _messages = messages;
    }

    /// <summary>
    /// Creates a batch holding a copy of each of <paramref name="messages"/> (terminators excluded), in order: for
    /// unit-testing a sink or a store, or for feeding one from a source other than the server.
    /// </summary>
    public static MessageBatch FromMessages(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding,
        IEnumerable<ReadOnlyMemory<byte>> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var buffer = new List<byte>();
        var ranges = new List<(int Start, int Length)>();
        foreach (var message in messages)
        {
            ranges.Add((buffer.Count, message.Length));
            buffer.AddRange(message.Span);
        }

        return new MessageBatch(connection, receivedAt, encoding, buffer.ToArray(), ranges.ToArray());
    }

    /// <summary>Creates a batch of <paramref name="texts"/>, each encoded with <paramref name="encoding"/>.</summary>
    public static MessageBatch FromTexts(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding,
        params IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(texts);
        return FromMessages(connection, receivedAt, encoding, texts.Select(t => (ReadOnlyMemory<byte>)encoding.GetBytes(t)));
    }

    /// <summary>The connection the messages came from.</summary>
    public ConnectionInfo Connection { get; }

    /// <summary>
    /// The journal id of the first message once the journal has stored the batch (the others follow consecutively),
    /// or 0 when no journal is configured (or it has not stored the batch yet).
    /// </summary>
    public long FirstJournalId { get; init; }

    /// <summary>When the read that completed these messages returned (UTC).</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The encoding the server was configured with for message text.</summary>
    public Encoding Encoding { get; }

    /// <summary>How many messages the batch holds.</summary>
    public int Count => _messages.Length;

    /// <summary>The raw bytes of message <paramref name="index"/>, terminator excluded.</summary>
    public ReadOnlySpan<byte> this[int index]
    {
        get
        {
            var (start, length) = _messages.Span[index];
            return _buffer.Span.Slice(start, length);
        }
    }

    /// <summary>Copies the batch into owned <see cref="ReceivedMessage"/> objects.</summary>
    public ReceivedMessage[] ToMessages()
    {
        var result = new ReceivedMessage[Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = new ReceivedMessage(Connection, ReceivedAt, this[i].ToArray(), Encoding)
            {
                JournalId = FirstJournalId == 0 ? 0 : FirstJournalId + i,
            };
        }

        return result;
    }
}

/// <summary>One received message, owned by the caller.</summary>
public sealed class ReceivedMessage
{
    /// <summary>Creates the message.</summary>
    public ReceivedMessage(ConnectionInfo connection, DateTimeOffset receivedAt, byte[] payload, Encoding encoding)
    {
        Connection = connection;
        ReceivedAt = receivedAt;
        Payload = payload;
        Encoding = encoding;
    }

    /// <summary>The connection it came from.</summary>
    public ConnectionInfo Connection { get; }

    /// <summary>When it was received (UTC).</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The bytes exactly as received, terminator excluded.</summary>
    public byte[] Payload { get; }

    /// <summary>The message's id in the journal, or 0 when no journal stores messages.</summary>
    public long JournalId { get; init; }

    /// <summary>The server's text encoding.</summary>
    public Encoding Encoding { get; }

    /// <summary>The text, decoded and escaped as the server prints it (control characters and invalid bytes visible).</summary>
    public string DisplayText => MessageText.DecodeEscaped(Payload, Encoding);

    /// <summary>The text decoded by <see cref="Encoding"/> as is, control characters kept; use <see cref="DisplayText"/> to show it to people.</summary>
    public string Text => Encoding.GetString(Payload);

    /// <inheritdoc/>
    public override string ToString() => $"{Connection.Remote} {DisplayText}";
}
