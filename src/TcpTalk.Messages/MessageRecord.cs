using System.Net;
using System.Text;

namespace TcpTalk.Messages;

/// <summary>
/// One received or stored message with every field its output line shows: what <see cref="MessageLineWriter"/>
/// formats. A view: it copies nothing, so the server builds one per message of a batch without allocating.
/// </summary>
public readonly ref struct MessageRecord
{
    /// <summary>Creates the view of one message.</summary>
    /// <param name="journalId">The message's journal id, or 0 when no journal stored it (JSON shows <c>null</c>).</param>
    /// <param name="receivedAt">When the server read it.</param>
    /// <param name="localAddress">The server address the client reached.</param>
    /// <param name="localPort">The server port the client reached.</param>
    /// <param name="clientAddress">The client's address as shown to people (IPv4-mapped addresses as IPv4).</param>
    /// <param name="clientPort">The client's port.</param>
    /// <param name="connectionId">The server's number for the connection.</param>
    /// <param name="encoding">The server's text encoding when it received the message.</param>
    /// <param name="raw">The message bytes exactly as received, terminator excluded.</param>
    /// <param name="text">
    /// The text already decoded (a journal stores it), or null to decode <paramref name="raw"/> with
    /// <paramref name="encoding"/>.
    /// </param>
    /// <param name="codePage">
    /// The code page to report when it differs from <paramref name="encoding"/>'s (a stored code page this machine
    /// does not know, shown in UTF-8); null for <paramref name="encoding"/>'s own.
    /// </param>
    /// <param name="localAddressText">The server address as text when it is no IP address (<c>unix:/run/tcptalk.sock</c>); null otherwise.</param>
    /// <param name="clientAddressText">The client's address as text when it is no IP address (<c>unix:pid=42,uid=1000</c>); null otherwise.</param>
    public MessageRecord(long journalId, DateTimeOffset receivedAt, IPAddress localAddress, int localPort,
        IPAddress clientAddress, int clientPort, long connectionId, Encoding encoding, ReadOnlySpan<byte> raw,
        string? text = null, int? codePage = null, string? localAddressText = null, string? clientAddressText = null)
    {
        ArgumentNullException.ThrowIfNull(localAddress);
        ArgumentNullException.ThrowIfNull(clientAddress);
        ArgumentNullException.ThrowIfNull(encoding);
        JournalId = journalId;
        ReceivedAt = receivedAt;
        LocalAddress = localAddress;
        LocalPort = localPort;
        ClientAddress = clientAddress;
        ClientPort = clientPort;
        ConnectionId = connectionId;
        Encoding = encoding;
        Raw = raw;
        Text = text;
        CodePage = codePage ?? encoding.CodePage;
        LocalAddressText = localAddressText;
        ClientAddressText = clientAddressText;
    }

    /// <summary>The view of message <paramref name="index"/> of <paramref name="batch"/>.</summary>
    public static MessageRecord FromBatch(in MessageBatch batch, int index)
    {
        var connection = batch.Connection;
        return new(batch.FirstJournalId == 0 ? 0 : batch.FirstJournalId + index, batch.ReceivedAt,
            connection.LocalAddress, connection.LocalPort, connection.RemoteAddress, connection.RemotePort, connection.Id,
            batch.Encoding, batch[index], localAddressText: connection.IsUnixSocket ? connection.LocalAddressText : null,
            clientAddressText: connection.IsUnixSocket ? connection.RemoteAddressText : null)
        {
            UniqueId = connection.UniqueId,
        };
    }

    /// <summary>The journal id, or 0 when no journal stored the message.</summary>
    public long JournalId { get; }

    /// <summary>When the server read the message.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The server address the client reached.</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The server port the client reached.</summary>
    public int LocalPort { get; }

    /// <summary>The client's address.</summary>
    public IPAddress ClientAddress { get; }

    /// <summary>The client's port.</summary>
    public int ClientPort { get; }

    /// <summary>The server address when it is no IP address (a unix socket: <c>unix:/run/tcptalk.sock</c>); null when <see cref="LocalAddress"/> is it.</summary>
    public string? LocalAddressText { get; }

    /// <summary>The client's address when it is no IP address (a unix-socket peer: <c>unix:pid=42,uid=1000</c>); null when <see cref="ClientAddress"/> is it.</summary>
    public string? ClientAddressText { get; }

    /// <summary>The server's number for the connection.</summary>
    public long ConnectionId { get; }

    /// <summary>The server's text encoding: what decodes and escapes <see cref="Raw"/>.</summary>
    public Encoding Encoding { get; }

    /// <summary>The code page of the server's text encoding (65001 for UTF-8): JSON's <c>code_page</c>.</summary>
    public int CodePage { get; }

    /// <summary>The message bytes exactly as received, terminator excluded.</summary>
    public ReadOnlySpan<byte> Raw { get; }

    /// <summary>The PROXY protocol v2 UNIQUE_ID of the message's connection (<see cref="ConnectionInfo.UniqueId"/>), or null.</summary>
#pragma warning disable CA1819 // the connection's own array, shown, never changed
    public byte[]? UniqueId { get; init; }
#pragma warning restore CA1819

    /// <summary>The decoded text when the source already has it; null means "decode <see cref="Raw"/>".</summary>
    public string? Text { get; }
}
