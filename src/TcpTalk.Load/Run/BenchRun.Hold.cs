using System.Diagnostics;

namespace TcpTalk.Load;

/// <summary>Hold mode: open every connection, keep it until the run ends, count the ones the server closes.</summary>
internal sealed partial class BenchRun
{
    private async Task RunHoldAsync(LoadSlot slot)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            var stream = await ConnectAsync(slot, start).ConfigureAwait(false);
            ReleaseWindow(slot);
            slot.SetDeadline(0);
            await DiscardToEndAsync(stream).ConfigureAwait(false);
            Counters.Drop(); // the server closed a held connection
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (slot.Greeted && slot.AbortReason is null)
            {
                Counters.Drop(); // the server reset a held connection
            }
            else if (Classify(e, slot) is { } kind)
            {
                Counters.Fail(kind);
            }
        }
        finally
        {
            ReleaseWindow(slot);
            slot.Detach();
        }
    }
}
