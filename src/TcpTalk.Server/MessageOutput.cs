using System.Buffers;
using System.Text.Json;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>
/// Prints one line per message to a stream (stdout): <c>&lt;UTC time&gt; &lt;client-ip&gt;:&lt;port&gt; &lt;text&gt;</c>,
/// the text escaped by <see cref="MessageText"/> so a peer cannot drive the operator's terminal.
/// </summary>
/// <remarks>
/// Lines are formatted straight into one shared buffer under one lock per batch (one read of one connection), so
/// the hot path neither allocates nor makes a system call per message. The buffer is written out when it passes
/// <see cref="FlushThreshold"/>, and otherwise by a background flusher as soon as the writers go idle, so a line
/// typed by a human shows at once while a flood of lines costs one write per ~64 KiB. <see cref="DisposeAsync"/>
/// writes whatever is left.
/// </remarks>
public sealed class MessageOutput : IMessageSink, IAsyncDisposable
{
    /// <summary>Buffered bytes that trigger a write by the appending thread itself.</summary>
    public const int FlushThreshold = 64 * 1024;

    // How long the flusher lets lines gather after the first one: invisible to a person, but under load it turns
    // one write system call per line into one per many lines.
    private static readonly TimeSpan s_flushDelay = TimeSpan.FromMilliseconds(1);

    private readonly Stream _stream;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _dirty = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _flusher;
    private readonly LineBuffer _buffer = new(FlushThreshold * 2);
    private readonly byte[] _timestamp = new byte[24];
    private readonly MessageOutputFormat _format;
    private Utf8JsonWriter? _json;
    private long _timestampMillis = -1;
    private bool _signalled;
    private Exception? _failure;

    /// <summary>Creates the output on <paramref name="stream"/>, which it does not own.</summary>
    public MessageOutput(Stream stream, MessageOutputFormat format = MessageOutputFormat.Text)
    {
        _format = format;
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _flusher = Task.Run(FlushWhenIdleAsync);
    }

    /// <inheritdoc/>
    public ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                // stdout is gone (closed pipe): keep serving; the journal, if any, still has the messages.
                return ValueTask.CompletedTask;
            }

            if (_format == MessageOutputFormat.Json)
            {
                WriteJsonLocked(batch);
                SignalLocked();
                return ValueTask.CompletedTask;
            }

            var stamp = FormatTimestamp(batch.ReceivedAt);
            var connection = batch.Connection;
            for (int i = 0; i < batch.Count; i++)
            {
                var span = _buffer.GetSpan(stamp.Length + ClientAddress.MaxEndpointBytes + 2);
                stamp.CopyTo(span);
                span[stamp.Length] = (byte)' ';
                ClientAddress.TryFormatEndpoint(connection.RemoteAddress, connection.RemotePort, span[(stamp.Length + 1)..], out int remote);
                span[stamp.Length + 1 + remote] = (byte)' ';
                _buffer.Advance(stamp.Length + remote + 2);
                MessageText.WriteEscapedUtf8(batch[i], batch.Encoding, _buffer);
                _buffer.GetSpan(1)[0] = (byte)'\n';
                _buffer.Advance(1);
                if (_buffer.Length >= FlushThreshold)
                {
                    WriteBufferLocked();
                }
            }

            SignalLocked();
        }

        return ValueTask.CompletedTask;
    }

    private void SignalLocked()
    {
        if (_buffer.Length > 0 && !_signalled)
        {
            _signalled = true;
            _dirty.Release();
        }
    }

    /// <summary>
    /// One JSON object per line, with the field names of <c>tcptalk messages --json</c>: id (journal id, null without a
    /// journal), received_at, local_address, local_port, client_address, client_port, connection_id, code_page, text
    /// (decoded as is; JSON escaping makes it safe), raw (the exact bytes, base64: authoritative when text could not
    /// be decoded).
    /// </summary>
    private void WriteJsonLocked(MessageBatch batch)
    {
        var connection = batch.Connection;
        for (int i = 0; i < batch.Count; i++)
        {
            if (_json is null)
            {
                _json = new Utf8JsonWriter(_buffer, MessageJson.WriterOptions);
            }
            else
            {
                _json.Reset(_buffer);
            }

            var raw = batch[i];
            _json.WriteStartObject();
            if (batch.FirstJournalId > 0)
            {
                _json.WriteNumber("id", batch.FirstJournalId + i);
            }
            else
            {
                _json.WriteNull("id");
            }

            _json.WriteString("received_at", batch.ReceivedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture));
            _json.WriteString("local_address", connection.LocalAddress.ToString());
            _json.WriteNumber("local_port", connection.LocalPort);
            _json.WriteString("client_address", connection.RemoteAddress.ToString());
            _json.WriteNumber("client_port", connection.RemotePort);
            _json.WriteNumber("connection_id", connection.Id);
            _json.WriteNumber("code_page", batch.Encoding.CodePage);
            _json.WriteString("text", batch.Encoding.GetString(raw));
            _json.WriteBase64String("raw", raw);
            _json.WriteEndObject();
            _json.Flush();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            if (_buffer.Length >= FlushThreshold)
            {
                WriteBufferLocked();
            }
        }
    }

    /// <summary>Writes buffered lines to the stream and flushes it.</summary>
    public void Flush()
    {
        lock (_gate)
        {
            WriteBufferLocked();
            try
            {
                _stream.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                _failure ??= e;
            }
        }
    }

    /// <summary>Stops the flusher and writes what is left.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _flusher.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        Flush();
        _json?.Dispose();
        _stop.Dispose();
        _dirty.Dispose();
    }

    private async Task FlushWhenIdleAsync()
    {
        while (true)
        {
            await _dirty.WaitAsync(_stop.Token).ConfigureAwait(false);
            await Task.Delay(s_flushDelay, _stop.Token).ConfigureAwait(false);
            lock (_gate)
            {
                _signalled = false;
            }

            Flush();
        }
    }

    private void WriteBufferLocked()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        try
        {
            if (_failure is null)
            {
                _stream.Write(_buffer.Written);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            _failure = e;
        }
        finally
        {
            _buffer.Clear();
        }
    }

    // yyyy-MM-ddTHH:mm:ss.fffZ, cached per millisecond.
    private ReadOnlySpan<byte> FormatTimestamp(DateTimeOffset at)
    {
        long millis = at.ToUnixTimeMilliseconds();
        if (millis != _timestampMillis)
        {
            var utc = at.UtcDateTime;
            utc.TryFormat(_timestamp, out int written, "yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture);
            _timestampMillis = millis;
            return _timestamp.AsSpan(0, written);
        }

        return _timestamp;
    }

    private sealed class LineBuffer(int capacity) : IBufferWriter<byte>
    {
        private byte[] _bytes = new byte[capacity];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

        public void Advance(int count) => Length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _bytes.AsMemory(Length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _bytes.AsSpan(Length);
        }

        public void Clear()
        {
            Length = 0;
            if (_bytes.Length > capacity)
            {
                _bytes = new byte[capacity]; // a huge message grew it; don't keep that forever
            }
        }

        private void Ensure(int sizeHint)
        {
            int need = Math.Max(sizeHint, 16);
            if (_bytes.Length - Length < need)
            {
                Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + need));
            }
        }
    }
}

/// <summary>How <see cref="MessageOutput"/> writes each message.</summary>
public enum MessageOutputFormat
{
    /// <summary><c>&lt;UTC time&gt; &lt;client-ip&gt;:&lt;port&gt; &lt;escaped text&gt;</c>, one line per message. The default.</summary>
    Text,

    /// <summary>One JSON object per line (JSON Lines), the fields of <c>tcptalk messages --json</c>.</summary>
    Json,
}
