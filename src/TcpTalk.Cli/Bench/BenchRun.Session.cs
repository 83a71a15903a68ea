using System.Diagnostics;
using System.Text.Unicode;

namespace TcpTalk.Cli.Bench;

/// <summary>Session mode: each slot repeats connect, greeting, one message, half-close, server's close.</summary>
internal sealed partial class BenchRun
{
    private static readonly uint[] PowersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

    private long _sessionsLeft;

    /// <summary>Takes one session from <see cref="BenchOptions.Messages"/>; false when none are left.</summary>
    private bool TryTakeSession() => _options.Messages is null || Interlocked.Decrement(ref _sessionsLeft) >= 0;

    private async Task RunSessionsAsync(LoadSlot slot)
    {
        try
        {
            while (!Stopping && TryTakeSession())
            {
                long start = Stopwatch.GetTimestamp();
                bool failed = false;
                try
                {
                    var stream = await ConnectAsync(slot, start).ConfigureAwait(false);
                    ReleaseWindow(slot);
                    int length = WriteSessionMessage(slot);
                    slot.SetDeadline(StepDeadline());
                    await stream.WriteAsync(slot.Message.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                    Counters.Sent(1, length);
                    await HalfCloseAsync(slot, stream).ConfigureAwait(false);
                    slot.SetDeadline(StepDeadline());
                    await DiscardToEndAsync(stream).ConfigureAwait(false);
                    long now = Stopwatch.GetTimestamp();
                    Counters.CompleteSession(start, now, inWindow: now <= Volatile.Read(ref _end));
                    slot.Completed++;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    ReleaseWindow(slot);
                    if (Classify(e, slot) is { } kind)
                    {
                        Counters.Fail(kind);
                        failed = true;
                    }
                }
                finally
                {
                    slot.Detach();
                }

                if (failed && !Stopping)
                {
                    // As tcpload: a failed slot waits a little before it tries again, so a refusing server is not spun on.
                    await Task.Delay(Backoff, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            ReleaseWindow(slot);
        }
    }

    /// <summary>
    /// Writes the slot's next message, <c>m0-&lt;slot&gt;-&lt;seq&gt;</c> padded with <c>x</c> to the message size, and its
    /// terminator (tcpload's id, which run.py and the tests count in the server's output); returns its length.
    /// </summary>
    private int WriteSessionMessage(LoadSlot slot)
    {
        int size = _options.MessageBytes;
        if (slot.Message is null)
        {
            slot.Message = new byte[size + 1];
            slot.Message[size] = _options.Terminator;
        }

        var payload = slot.Message.AsSpan(0, size);
        slot.Sequence++;
        Utf8.TryWrite(payload, $"m0-{slot.Index}-", out int prefix);
        int room = Math.Min(size - prefix, 9);
        uint sequence = room < 9 ? slot.Sequence % PowersOfTen[room] : slot.Sequence;
        sequence.TryFormat(payload[prefix..], out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        payload[(prefix + digits)..].Fill((byte)'x');
        return size + 1;
    }
}
