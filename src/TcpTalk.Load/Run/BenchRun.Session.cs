using System.Diagnostics;

namespace TcpTalk.Load;

/// <summary>Session mode: each slot repeats connect, greeting, one message, half-close, server's close.</summary>
internal sealed partial class BenchRun
{
    private async Task RunSessionsAsync(LoadSlot slot)
    {
        try
        {
            while (!Stopping && _sessions.TryTake())
            {
                long start = Stopwatch.GetTimestamp();
                bool failed = false;
                try
                {
                    var stream = await ConnectAsync(slot, start).ConfigureAwait(false);
                    ReleaseWindow(slot);
                    int length = _sessions.WriteNext(slot);
                    slot.SetDeadline(Clock.StepDeadline());
                    await stream.WriteAsync(slot.Message.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                    Counters.Sent(1, length);
                    await HalfCloseAsync(slot, stream).ConfigureAwait(false);
                    slot.SetDeadline(Clock.StepDeadline());
                    await DiscardToEndAsync(stream).ConfigureAwait(false);
                    long now = Stopwatch.GetTimestamp();
                    Counters.CompleteSession(start, now, inWindow: Clock.InWindow(now));
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
}
