using System.Net;
using System.Text;
using TcpTalk.Messages;

namespace TcpTalk.TestSupport;

/// <summary>
/// Builds <see cref="ConnectionInfo"/>s and <see cref="MessageBatch"/>es for store and sink tests: a loopback
/// connection by default, and batches laid out the way the connection handler lays them out.
/// </summary>
internal static class TestBatches
{
    /// <summary>A receive time with sub-microsecond ticks, so a store that keeps microseconds must truncate it.</summary>
    public static readonly DateTimeOffset Time = new DateTimeOffset(2024, 5, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    /// <summary><see cref="Time"/> cut to whole microseconds, for stores whose round trip keeps it exactly.</summary>
    public static readonly DateTimeOffset MicrosecondTime = Time.AddTicks(-(Time.Ticks % 10));

    /// <summary>A connection from <paramref name="client"/>:<paramref name="clientPort"/> to <paramref name="local"/>:<paramref name="localPort"/>.</summary>
    public static ConnectionInfo Connection(long id = 1, string client = "127.0.0.1", int clientPort = 5000,
        string local = "127.0.0.1", int localPort = 12345) =>
        new(id, new IPEndPoint(IPAddress.Parse(local), localPort), new IPEndPoint(IPAddress.Parse(client), clientPort));

    /// <summary>A UTF-8 (strict) batch of <paramref name="messages"/> from <see cref="Connection"/>'s default, received at <see cref="Time"/>.</summary>
    public static MessageBatch Of(params string[] messages) =>
        Of(Connection(), Time, TcpTalk.Protocol.MessageEncodings.Utf8, messages.Select(m => Encoding.UTF8.GetBytes(m)).ToArray());

    /// <summary>
    /// A batch of <paramref name="messages"/> in one buffer with a NUL after each, as in a real receive buffer, so a
    /// store that ignores the message ranges (and stores the terminators) fails.
    /// (<see cref="MessageBatch.FromMessages"/> packs them without terminators; tests of sinks that do not care use it.)
    /// </summary>
    public static MessageBatch Of(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding, params byte[][] messages)
    {
        var buffer = new List<byte>();
        var ranges = new (int Start, int Length)[messages.Length];
        for (int i = 0; i < messages.Length; i++)
        {
            ranges[i] = (buffer.Count, messages[i].Length);
            buffer.AddRange(messages[i]);
            buffer.Add(0);
        }

        return new MessageBatch(connection, receivedAt, encoding, buffer.ToArray(), ranges);
    }
}
