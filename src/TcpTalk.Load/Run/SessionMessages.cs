using System.Globalization;
using System.Text.Unicode;

namespace TcpTalk.Load;

/// <summary>
/// Session mode's supply of messages: how many sessions may still start (<see cref="BenchOptions.Messages"/>), and
/// each slot's next message, <c>m0-&lt;slot&gt;-&lt;seq&gt;</c> padded with <c>x</c> (tcpload's id, which run.py and the
/// tests count in the server's output). Shared by the <see cref="System.Net.Sockets.Socket"/> and the epoll path.
/// </summary>
internal sealed class SessionMessages(long? limit, int messageBytes, byte terminator)
{
    private static readonly uint[] PowersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

    private long _left = limit ?? long.MaxValue;

    /// <summary>Takes one session; false when none are left.</summary>
    public bool TryTake() => limit is null || Interlocked.Decrement(ref _left) >= 0;

    /// <summary>Writes the slot's next message and its terminator into <see cref="LoadSlot.Message"/>; returns its length.</summary>
    public int WriteNext(LoadSlot slot)
    {
        int size = messageBytes;
        if (slot.Message is null)
        {
            slot.Message = new byte[size + 1];
            slot.Message[size] = terminator;
        }

        var payload = slot.Message.AsSpan(0, size);
        slot.Sequence++;
        Utf8.TryWrite(payload, $"m0-{slot.Index}-", out int prefix);
        int room = Math.Min(size - prefix, 9);
        uint sequence = room < 9 ? slot.Sequence % PowersOfTen[room] : slot.Sequence;
        sequence.TryFormat(payload[prefix..], out int digits, default, CultureInfo.InvariantCulture);
        payload[(prefix + digits)..].Fill((byte)'x');
        return size + 1;
    }
}
