using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using TcpTalk.Protocol;
using Endpoint = TcpTalk.Protocol.ClientAddress;

namespace TcpTalk.Messages;

/// <summary>
/// One stored message as every store returns it: every column of its row. <see cref="NodeName"/> and
/// <see cref="UniqueId"/> are set only by stores that keep them (PostgreSQL keeps both, the embedded journal the unique id).
/// </summary>
public sealed class JournalRecord
{
    private static readonly ConcurrentDictionary<int, Encoding> s_encodings = new();

    /// <summary>
    /// Creates a record; a reader does this for every row. <c>text</c> is the text the store kept, or null to decode
    /// <c>raw</c> in the encoding of <c>codePage</c>.
    /// </summary>
    public JournalRecord(long id, DateTimeOffset receivedAt, IPAddress localAddress, int localPort, IPAddress clientAddress,
        int clientPort, long connectionId, int codePage, byte[] raw, string? text = null)
    {
        ArgumentNullException.ThrowIfNull(localAddress);
        ArgumentNullException.ThrowIfNull(clientAddress);
        ArgumentNullException.ThrowIfNull(raw);
        Id = id;
        ReceivedAt = receivedAt.ToUniversalTime();
        LocalAddress = localAddress;
        LocalPort = localPort;
        ClientAddress = clientAddress;
        ClientPort = clientPort;
        ConnectionId = connectionId;
        CodePage = codePage;
        Raw = raw;
        Text = text ?? Encoding.GetString(raw);
    }

    /// <summary>The message's id: unique (across nodes too), increasing in the order messages were committed, consecutive within a batch.</summary>
    public long Id { get; }

    /// <summary>The server node that received the message, or null when the store keeps no node name.</summary>
    public string? NodeName { get; init; }

    /// <summary>The PROXY protocol v2 UNIQUE_ID the balancer sent for the connection, or null.</summary>
    public byte[]? UniqueId { get; init; }

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

    /// <summary>
    /// The stored server address when it is no IP address (a unix socket: <c>unix:/run/tcptalk.sock</c>; then
    /// <see cref="LocalAddress"/> is <see cref="IPAddress.None"/>); null when <see cref="LocalAddress"/> is it.
    /// </summary>
    public string? LocalAddressText { get; init; }

    /// <summary>
    /// The stored client address when it is no IP address (a unix-socket peer: <c>unix:pid=42,uid=1000</c>; then
    /// <see cref="ClientAddress"/> is <see cref="IPAddress.None"/>); null when <see cref="ClientAddress"/> is it.
    /// </summary>
    public string? ClientAddressText { get; init; }

    /// <summary>The server process's number for the connection (counts from 1 again after a restart, per node).</summary>
    public long ConnectionId { get; }

    /// <summary>The code page of the server's text encoding when it stored the message (65001 for UTF-8).</summary>
    public int CodePage { get; }

    /// <summary>The message bytes exactly as received, terminator excluded.</summary>
    public byte[] Raw { get; }

    /// <summary>
    /// <see cref="Raw"/> decoded in the server's encoding, control characters kept and invalid bytes replaced; for
    /// searching. Use <see cref="DisplayText"/> to show a message to people.
    /// </summary>
    public string Text { get; }

    /// <summary>The encoding of <see cref="CodePage"/> (UTF-8 if this machine does not know the code page).</summary>
    public Encoding Encoding => s_encodings.GetOrAdd(CodePage, static page =>
        MessageText.TryGetEncoding(page.ToString(CultureInfo.InvariantCulture), out var encoding, out _) ? encoding : MessageText.Utf8);

    /// <summary>The text escaped exactly as the server prints it (control characters and invalid bytes visible).</summary>
    public string DisplayText => MessageText.DecodeEscaped(Raw, Encoding);

    /// <summary><c>127.0.0.1:5000</c>, <c>[::1]:5000</c>, or <c>unix:pid=42,uid=1000</c>.</summary>
    public string Client => ClientAddressText ?? Endpoint.FormatEndpoint(ClientAddress, ClientPort);

    /// <summary><c>127.0.0.1:12345</c>, <c>[::1]:12345</c>, or <c>unix:/run/tcptalk.sock</c>.</summary>
    public string Local => LocalAddressText ?? Endpoint.FormatEndpoint(LocalAddress, LocalPort);

    /// <summary>
    /// The address a store kept as text, for a reader: the <see cref="IPAddress"/> when the text is one, else
    /// <see cref="IPAddress.None"/> and the text itself (a unix socket's <c>unix:...</c>) for the <c>*AddressText</c> properties.
    /// </summary>
    public static (IPAddress Address, string? Text) ParseStoredAddress(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return IPAddress.TryParse(text, out var address) ? (address, null) : (IPAddress.None, text);
    }

    /// <summary>
    /// The line the server prints for this message: <c>2024-05-01T12:00:00.123Z 127.0.0.1:5000 text</c>, the text
    /// escaped by <see cref="MessageText"/>. No line terminator. <see cref="MessageLineWriter"/> formats it, as it
    /// formats the server's output.
    /// </summary>
    public string FormatLine() => MessageLineWriter.FormatLine(ToMessageRecord());

    /// <summary>This record as the shared formatter's view, the one conversion every store's records go through (<see cref="MessageLineWriter"/>: text or JSON lines).</summary>
    public MessageRecord ToMessageRecord() =>
        new(Id, ReceivedAt, LocalAddress, LocalPort, ClientAddress, ClientPort, ConnectionId, Encoding, Raw, Text, CodePage,
            LocalAddressText, ClientAddressText) { UniqueId = UniqueId };

    /// <inheritdoc/>
    public override string ToString() => FormatLine();
}
