using System.Runtime.CompilerServices;

namespace TcpTalk.TestSupport;

/// <summary>
/// Waits for a condition the test cannot await directly, bounded in time: fails the test with the condition's own
/// text (or <c>what</c>) when it does not hold within the timeout (10 s unless told).
/// </summary>
internal static class Poll
{
    /// <summary>How long a poll waits unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Checks <paramref name="condition"/> every 5 ms until it holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null,
        [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"not within {limit.TotalSeconds:0.###} s: {what}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Awaits <paramref name="condition"/> every 20 ms (it may query a database) until it holds; fails the test after
    /// <paramref name="timeout"/>.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null,
        [CallerArgumentExpression(nameof(condition))] string what = "")
    {
        var limit = timeout ?? DefaultTimeout;
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"not within {limit.TotalSeconds:0.###} s: {what}");
            }

            await Task.Delay(20);
        }
    }
}
