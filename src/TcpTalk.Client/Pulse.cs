namespace TcpTalk.Client;

/// <summary>
/// A wake-up for one waiter: take <see cref="Next"/> before checking the condition, then wait on it; whoever changes
/// the condition calls <see cref="Fire"/> afterwards. Nothing is missed that way, and nothing is counted.
/// </summary>
internal sealed class Pulse
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Fire"/>.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    /// <summary>Wakes whoever waits on the current <see cref="Next"/>.</summary>
    public void Fire() =>
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
