using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using TcpTalk.Protocol;
using Endpoint = TcpTalk.Protocol.ClientAddress;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// One stored message: every column of its row. The same shape as the embedded journal's record, plus the node
/// that received it and the balancer's unique id.
/// </summary>
public sealed class PostgresJournalRecord
{
    private static readonly ConcurrentDictionary<int, Encoding> s_encodings = new();

    /// <summary>Creates a record; the reader does this for every row.</summary>
    public PostgresJournalRecord(long id, string nodeName, DateTimeOffset receivedAt, IPAddress localAddress, int localPort,
        IPAddress clientAddress, int clientPort, long connectionId, int codePage, byte[]? uniqueId, byte[] raw)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        ArgumentNullException.ThrowIfNull(localAddress);
        ArgumentNullException.ThrowIfNull(clientAddress);
        ArgumentNullException.ThrowIfNull(raw);
        Id = id;
        NodeName = nodeName;
        ReceivedAt = receivedAt.ToUniversalTime();
        LocalAddress = localAddress;
        LocalPort = localPort;
        ClientAddress = clientAddress;
        ClientPort = clientPort;
        ConnectionId = connectionId;
        CodePage = codePage;
        UniqueId = uniqueId;
        Raw = raw;
        Text = Encoding.GetString(raw);
    }

    /// <summary>The message's id: unique across nodes, increasing in commit order, consecutive within a batch.</summary>
    public long Id { get; }

    /// <summary>The server node that received the message.</summary>
    public string NodeName { get; }

    /// <summary>When the server read the message (UTC, microsecond precision).</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The server address the client reached.</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The server port the client reached.</summary>
    public int LocalPort { get; }

    /// <summary>The client's address, as the server showed it (IPv4-mapped addresses as IPv4).</summary>
    public IPAddress ClientAddress { get; }

    /// <summary>The client's port.</summary>
    public int ClientPort { get; }

    /// <summary>The server process's number for the connection (counts from 1 again after a restart, per node).</summary>
    public long ConnectionId { get; }

    /// <summary>The code page of the server's text encoding when it stored the message (65001 for UTF-8).</summary>
    public int CodePage { get; }

    /// <summary>The PROXY protocol v2 UNIQUE_ID the balancer sent for the connection, or null.</summary>
    public byte[]? UniqueId { get; }

    /// <summary>The message bytes exactly as received, terminator excluded.</summary>
    public byte[] Raw { get; }

    /// <summary><see cref="Raw"/> decoded in the server's encoding, control characters kept, invalid bytes replaced; for searching.</summary>
    public string Text { get; }

    /// <summary>The encoding of <see cref="CodePage"/> (UTF-8 if this machine does not know the code page).</summary>
    public Encoding Encoding => s_encodings.GetOrAdd(CodePage, static page =>
        MessageText.TryGetEncoding(page.ToString(CultureInfo.InvariantCulture), out var encoding, out _) ? encoding : MessageText.Utf8);

    /// <summary>The text escaped exactly as the server prints it (control characters and invalid bytes visible).</summary>
    public string DisplayText => MessageText.DecodeEscaped(Raw, Encoding);

    /// <summary><c>127.0.0.1:5000</c> or <c>[::1]:5000</c>.</summary>
    public string Client => Endpoint.FormatEndpoint(ClientAddress, ClientPort);

    /// <summary><c>127.0.0.1:12345</c> or <c>[::1]:12345</c>.</summary>
    public string Local => Endpoint.FormatEndpoint(LocalAddress, LocalPort);

    /// <summary>The line the server prints for this message: <c>2024-05-01T12:00:00.123Z 127.0.0.1:5000 text</c>. No line terminator.</summary>
    public string FormatLine() =>
        string.Create(CultureInfo.InvariantCulture, $"{ReceivedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} {Client} {DisplayText}");

    /// <inheritdoc/>
    public override string ToString() => FormatLine();
}
