namespace TcpTalk.Client;

/// <summary>
/// Exponential backoff with jitter: the n-th wait is <c>initial × 2^(n-1)</c> capped at <c>max</c>, of which a random
/// part up to half is dropped ("equal jitter"), so that it stays at least half the nominal wait yet clients spread out.
/// </summary>
internal sealed class RetryBackoff(TimeSpan initial, TimeSpan max, Random random)
{
    /// <summary>The wait before attempt <paramref name="failures"/> + 1, after <paramref name="failures"/> failures in a row (1 or more).</summary>
    public TimeSpan Delay(int failures)
    {
        double nominal = initial.Ticks * Math.Pow(2, Math.Min(Math.Max(failures, 1) - 1, 40));
        double capped = Math.Min(nominal, max.Ticks);
        return TimeSpan.FromTicks((long)(capped / 2 + (capped / 2 * random.NextDouble())));
    }
}
