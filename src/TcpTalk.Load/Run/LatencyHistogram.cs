namespace TcpTalk.Load;

/// <summary>
/// A log-linear (HdrHistogram-style) histogram of durations in nanoseconds, safe to record into from many threads at
/// once without locks or allocations. Values below 64 ns have a bucket each; above, every power of two is split into 64
/// equal sub-buckets, so a percentile is within 1/128 of the true value (half a bucket) up to 2^42 ns (73 minutes),
/// beyond which values land in the last bucket.
/// </summary>
/// <remarks>
/// The layout, the midpoint rule and the rank rule are those of <c>tcpload</c> (shared/bench/tcpload.c), on purpose:
/// the same samples give the same percentiles in both tools, so <c>tcptalk bench</c> and <c>tcpload</c> can be
/// compared figure for figure.
/// </remarks>
internal sealed class LatencyHistogram
{
    private const int SubBits = 6;
    private const int Sub = 1 << SubBits;
    private const int MaxExponent = 42;

    /// <summary>The number of buckets: 64 exact ones, then 64 per power of two from 2^6 to 2^41.</summary>
    public const int BucketCount = (MaxExponent - SubBits + 1) * Sub;

    private readonly long[] _counts = new long[BucketCount];
    private long _count;
    private long _min = long.MaxValue;
    private long _max;
    private long _sum;

    /// <summary>Values recorded.</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>The smallest value recorded, exactly; 0 when empty.</summary>
    public long Min => Count == 0 ? 0 : Volatile.Read(ref _min);

    /// <summary>The largest value recorded, exactly; 0 when empty.</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>The mean of the values recorded; 0 when empty.</summary>
    public double Mean => Count == 0 ? 0 : (double)Volatile.Read(ref _sum) / Count;

    /// <summary>Records one value (negative values count as 0).</summary>
    public void Record(long value)
    {
        value = Math.Max(value, 0);
        Interlocked.Increment(ref _counts[BucketOf(value)]);
        Interlocked.Add(ref _sum, value);
        LowerTo(ref _min, value);
        RaiseTo(ref _max, value);

        // Counted last, so a reader that sees the count also sees a min and max that include this value.
        Interlocked.Increment(ref _count);
    }

    /// <summary>
    /// The value at percentile <paramref name="percent"/> (0-100): the midpoint of the bucket holding the sample of rank
    /// ceil(percent/100 × count), clamped to [<see cref="Min"/>, <see cref="Max"/>]; 0 when empty.
    /// </summary>
    public double ValueAtPercentile(double percent)
    {
        long count = Count;
        if (count == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)((percent / 100.0 * count) + 0.999999));
        long seen = 0;
        for (int i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Clamp(Midpoint(i), Min, Max);
            }
        }

        return Max;
    }

    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/> if that is larger, atomically.</summary>
    internal static void RaiseTo(ref long field, long value)
    {
        long seen = Volatile.Read(ref field);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref field, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    /// <summary>Sets <paramref name="field"/> to <paramref name="value"/> if that is smaller, atomically.</summary>
    private static void LowerTo(ref long field, long value)
    {
        long seen = Volatile.Read(ref field);
        while (value < seen)
        {
            long previous = Interlocked.CompareExchange(ref field, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    /// <summary>The bucket holding <paramref name="value"/>.</summary>
    internal static int BucketOf(long value)
    {
        if (value < Sub)
        {
            return (int)value;
        }

        int exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value);
        if (exponent >= MaxExponent)
        {
            return BucketCount - 1;
        }

        return ((exponent - SubBits + 1) * Sub) + (int)((value >> (exponent - SubBits)) & (Sub - 1));
    }

    /// <summary>The middle of bucket <paramref name="bucket"/>'s range of values.</summary>
    internal static double Midpoint(int bucket)
    {
        if (bucket < Sub)
        {
            return bucket;
        }

        int exponent = (bucket / Sub) + SubBits - 1;
        long width = 1L << (exponent - SubBits);
        return ((double)(Sub + (bucket % Sub)) * width) + ((width - 1) / 2.0);
    }
}
