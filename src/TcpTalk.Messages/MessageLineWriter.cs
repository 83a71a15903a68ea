using System.Buffers;
using System.Globalization;
using System.Text.Json;
using TcpTalk.Protocol;

namespace TcpTalk.Messages;

/// <summary>
/// Writes messages as lines, the one definition of both output formats: <c>tcptalk serve</c>'s output and
/// <c>tcptalk messages</c> use it, so a stored message reads exactly as the server printed it.
/// <see cref="MessageOutputFormat.Text"/>: <c>2024-05-01T12:00:00.123Z 127.0.0.1:5000 text</c> (UTC, milliseconds;
/// the text escaped by <see cref="MessageText"/> so that a peer cannot drive the operator's terminal).
/// <see cref="MessageOutputFormat.Json"/>: one object per line with the fields id (journal id, null without a
/// journal), received_at (UTC, microseconds), local_address, local_port, client_address, client_port,
/// connection_id, code_page, text (decoded as is; JSON escaping makes it safe), raw (the exact bytes, base64:
/// authoritative when text could not be decoded), and unique_id (the balancer's PROXY protocol v2 UNIQUE_ID as UTF-8
/// text) only when the connection had one.
/// </summary>
/// <remarks>
/// Not thread-safe: one writer per output. It keeps the last formatted time and its JSON writer and decode buffer,
/// so formatting a batch allocates nothing (text; JSON too for UTF-8 and other encodings alike).
/// </remarks>
public sealed class MessageLineWriter : IDisposable
{
    private const string TextTimeFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
    private const string JsonTimeFormat = "yyyy-MM-ddTHH:mm:ss.ffffffZ";
    private const int MaxAddressBytes = 64; // the longest IPv6 text with a scope id is under 70 chars: checked by TryFormat

    private static readonly JsonEncodedText s_id = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText s_receivedAt = JsonEncodedText.Encode("received_at");
    private static readonly JsonEncodedText s_localAddress = JsonEncodedText.Encode("local_address");
    private static readonly JsonEncodedText s_localPort = JsonEncodedText.Encode("local_port");
    private static readonly JsonEncodedText s_clientAddress = JsonEncodedText.Encode("client_address");
    private static readonly JsonEncodedText s_clientPort = JsonEncodedText.Encode("client_port");
    private static readonly JsonEncodedText s_connectionId = JsonEncodedText.Encode("connection_id");
    private static readonly JsonEncodedText s_codePage = JsonEncodedText.Encode("code_page");
    private static readonly JsonEncodedText s_text = JsonEncodedText.Encode("text");
    private static readonly JsonEncodedText s_raw = JsonEncodedText.Encode("raw");
    private static readonly JsonEncodedText s_uniqueId = JsonEncodedText.Encode("unique_id");

    private const int MaxTimeBytes = 40;

    private readonly byte[] _time = new byte[MaxTimeBytes];
    private long _timeTicks = -1;
    private int _timeLength;
    private Utf8JsonWriter? _json;
    private char[] _chars = [];

    /// <summary>Creates a writer of <paramref name="format"/> lines.</summary>
    public MessageLineWriter(MessageOutputFormat format = MessageOutputFormat.Text)
    {
        if (format is not (MessageOutputFormat.Text or MessageOutputFormat.Json))
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, "not a message output format");
        }

        Format = format;
    }

    /// <summary>The format this writer writes.</summary>
    public MessageOutputFormat Format { get; }

    /// <summary>Formats one message as a line without its terminator (allocates: for readers, not the hot path).</summary>
    public static string FormatLine(scoped in MessageRecord record, MessageOutputFormat format = MessageOutputFormat.Text)
    {
        using var writer = new MessageLineWriter(format);
        var output = new ArrayBufferWriter<byte>(128);
        writer.Write(record, output);
        return System.Text.Encoding.UTF8.GetString(output.WrittenSpan[..^1]);
    }

    /// <summary>Appends every message of <paramref name="batch"/>, one line each, LF-terminated.</summary>
    public void Write(in MessageBatch batch, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Format == MessageOutputFormat.Json)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                Write(MessageRecord.FromBatch(batch, i), output);
            }

            return;
        }

        // The hot path of serve's output: every message of a batch shares its time and client, so the line's
        // "<time> <client> " prefix is formatted once and copied before each escaped text.
        var connection = batch.Connection;
        Span<byte> prefix = stackalloc byte[MaxTimeBytes + ClientAddress.MaxEndpointBytes + 2];
        int length = WriteTextPrefix(batch.ReceivedAt, connection.RemoteAddress, connection.RemotePort,
            connection.IsUnixSocket ? connection.RemoteAddressText : null, prefix);
        prefix = prefix[..length];
        bool utf8 = batch.Encoding.CodePage == System.Text.Encoding.UTF8.CodePage;
        for (int i = 0; i < batch.Count; i++)
        {
            var raw = batch[i];
            if (utf8 && MessageText.IsPlainAscii(raw))
            {
                // The common line: nothing to escape, so prefix, text and LF go in with one GetSpan and one Advance
                // (each is an interface call; three pairs of them per line were a fifth of --no-journal's CPU).
                int line = length + raw.Length + 1;
                var span = output.GetSpan(line);
                prefix.CopyTo(span);
                raw.CopyTo(span[length..]);
                span[line - 1] = (byte)'\n';
                output.Advance(line);
                continue;
            }

            prefix.CopyTo(output.GetSpan(length));
            output.Advance(length);
            MessageText.WriteEscapedUtf8(raw, batch.Encoding, output);
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
        }
    }

    /// <summary>Appends <paramref name="record"/> as one LF-terminated line.</summary>
    public void Write(scoped in MessageRecord record, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Format == MessageOutputFormat.Json)
        {
            WriteJson(record, output);
        }
        else
        {
            WriteText(record, output);
        }

        output.GetSpan(1)[0] = (byte)'\n';
        output.Advance(1);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _json?.Dispose();
        _json = null;
        if (_chars.Length > 0)
        {
            ArrayPool<char>.Shared.Return(_chars);
            _chars = [];
        }
    }

    private void WriteText(scoped in MessageRecord record, IBufferWriter<byte> output)
    {
        int length = WriteTextPrefix(record.ReceivedAt, record.ClientAddress, record.ClientPort, record.ClientAddressText,
            output.GetSpan(MaxTimeBytes + ClientAddress.MaxEndpointBytes + 2));
        output.Advance(length);
        MessageText.WriteEscapedUtf8(record.Raw, record.Encoding, output);
    }

    /// <summary>
    /// Writes <c>&lt;time&gt; &lt;client&gt; </c> into <paramref name="destination"/>; returns its length. The client is
    /// <paramref name="clientText"/> when it is set (a unix-socket peer's name, ASCII and at most 37 characters).
    /// </summary>
    private int WriteTextPrefix(DateTimeOffset at, System.Net.IPAddress client, int port, string? clientText, Span<byte> destination)
    {
        var time = FormatTime(at, TextTimeFormat);
        time.CopyTo(destination);
        destination[time.Length] = (byte)' ';
        int remote;
        if (clientText is null)
        {
            ClientAddress.TryFormatEndpoint(client, port, destination[(time.Length + 1)..], out remote);
        }
        else
        {
            remote = System.Text.Encoding.ASCII.GetBytes(clientText.AsSpan(0, Math.Min(clientText.Length, ClientAddress.MaxEndpointBytes)),
                destination[(time.Length + 1)..]);
        }

        destination[time.Length + 1 + remote] = (byte)' ';
        return time.Length + remote + 2;
    }

    private void WriteJson(scoped in MessageRecord record, IBufferWriter<byte> output)
    {
        if (_json is null)
        {
            _json = new Utf8JsonWriter(output, MessageJson.WriterOptions);
        }
        else
        {
            _json.Reset(output);
        }

        var json = _json;
        json.WriteStartObject();
        if (record.JournalId > 0)
        {
            json.WriteNumber(s_id, record.JournalId);
        }
        else
        {
            json.WriteNull(s_id);
        }

        json.WriteString(s_receivedAt, FormatTime(record.ReceivedAt, JsonTimeFormat));
        WriteAddress(json, s_localAddress, record.LocalAddress, record.LocalAddressText);
        json.WriteNumber(s_localPort, record.LocalPort);
        WriteAddress(json, s_clientAddress, record.ClientAddress, record.ClientAddressText);
        json.WriteNumber(s_clientPort, record.ClientPort);
        json.WriteNumber(s_connectionId, record.ConnectionId);
        json.WriteNumber(s_codePage, record.CodePage);
        if (record.Text is { } text)
        {
            json.WriteString(s_text, text);
        }
        else
        {
            json.WriteString(s_text, Decode(record.Raw, record.Encoding));
        }

        json.WriteBase64String(s_raw, record.Raw);
        if (record.UniqueId is { } uniqueId)
        {
            json.WriteString(s_uniqueId, System.Text.Encoding.UTF8.GetString(uniqueId));
        }

        json.WriteEndObject();
        json.Flush();
    }

    private static void WriteAddress(Utf8JsonWriter json, JsonEncodedText name, System.Net.IPAddress address, string? addressText)
    {
        if (addressText is not null)
        {
            json.WriteString(name, addressText);
            return;
        }

        Span<byte> text = stackalloc byte[MaxAddressBytes];
        if (address.TryFormat(text, out int length))
        {
            json.WriteString(name, text[..length]);
        }
        else
        {
            json.WriteString(name, address.ToString());
        }
    }

    private ReadOnlySpan<char> Decode(ReadOnlySpan<byte> raw, System.Text.Encoding encoding)
    {
        int max = encoding.GetMaxCharCount(raw.Length);
        if (_chars.Length < max)
        {
            if (_chars.Length > 0)
            {
                ArrayPool<char>.Shared.Return(_chars);
            }

            _chars = ArrayPool<char>.Shared.Rent(Math.Max(max, 256));
        }

        return _chars.AsSpan(0, encoding.GetChars(raw, _chars));
    }

    // One batch shares one time, so consecutive messages format it once. Text and JSON never share a writer.
    private ReadOnlySpan<byte> FormatTime(DateTimeOffset at, string format)
    {
        long ticks = at.UtcTicks;
        if (ticks != _timeTicks)
        {
            at.UtcDateTime.TryFormat(_time, out _timeLength, format, CultureInfo.InvariantCulture);
            _timeTicks = ticks;
        }

        return _time.AsSpan(0, _timeLength);
    }
}
