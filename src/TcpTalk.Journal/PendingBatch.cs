using System.Text;
using TcpTalk.Server;

namespace TcpTalk.Journal;

/// <summary>
/// A batch copied out of the connection's buffer, waiting in the queue for the writer; completes with the id of its
/// first message once committed, or with <see cref="JournalUnavailableException"/>.
/// </summary>
/// <remarks>
/// The copy (and the text decoding) happens on the appending connection's thread, not the writer's: the one writer
/// thread then does nothing but SQLite work, and the decoding of many connections runs on all cores. Microsoft.Data.Sqlite
/// needs an owned <c>byte[]</c> per blob anyway.
/// </remarks>
internal sealed class PendingBatch : TaskCompletionSource<long>
{
    private PendingBatch(MessageBatch batch)
        : base(TaskCreationOptions.RunContinuationsAsynchronously) // never run a connection's read loop on the writer
    {
        var connection = batch.Connection;
        ReceivedMicros = UnixMicros.From(batch.ReceivedAt);
        LocalAddress = connection.LocalAddress.ToString();
        LocalPort = connection.LocalPort;
        ClientAddress = connection.RemoteAddress.ToString();
        ClientPort = connection.RemotePort;
        ConnectionId = connection.Id;
        CodePage = batch.Encoding.CodePage;
        Raw = new byte[batch.Count][];
        Text = new string[batch.Count];
        Encoding encoding = batch.Encoding;
        for (int i = 0; i < Raw.Length; i++)
        {
            var bytes = batch[i];
            Raw[i] = bytes.ToArray();
            Text[i] = Decode(bytes, ref encoding);
        }
    }

    public long ReceivedMicros { get; }

    public string LocalAddress { get; }

    public int LocalPort { get; }

    public string ClientAddress { get; }

    public int ClientPort { get; }

    public long ConnectionId { get; }

    public int CodePage { get; }

    public byte[][] Raw { get; }

    public string[] Text { get; }

    public int Count => Raw.Length;

    /// <summary>The id given to the first message in the transaction being written.</summary>
    public long FirstId { get; set; }

    public static PendingBatch Copy(MessageBatch batch) => new(batch);

    private static string Decode(ReadOnlySpan<byte> bytes, ref Encoding encoding)
    {
        try
        {
            return encoding.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // A caller's encoding that throws on invalid bytes: the raw column keeps them; the text gets U+FFFD.
            var lenient = (Encoding)encoding.Clone();
            lenient.DecoderFallback = new DecoderReplacementFallback("\uFFFD");
            encoding = lenient;
            return encoding.GetString(bytes);
        }
    }
}
