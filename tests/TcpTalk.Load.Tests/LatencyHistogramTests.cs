using TcpTalk.Load;

namespace TcpTalk.Load.Tests;

/// <summary>The log-linear histogram behind <c>tcptalk bench</c>'s percentiles (tcpload's layout).</summary>
public class LatencyHistogramTests
{
    [Fact]
    public void EmptyHistogramReportsZeroEverywhere()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.Count);
        Assert.Equal(0, histogram.Min);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.Mean);
        Assert.Equal(0, histogram.ValueAtPercentile(50));
        Assert.Equal(0, histogram.ValueAtPercentile(99.9));
    }

    [Fact]
    public void ValuesBelowSixtyFourAreExact()
    {
        var histogram = new LatencyHistogram();
        for (int v = 0; v < 64; v++)
        {
            histogram.Record(v);
        }

        Assert.Equal(31, histogram.ValueAtPercentile(50));   // rank 32 of 64
        Assert.Equal(63, histogram.ValueAtPercentile(100));
        Assert.Equal(0, histogram.ValueAtPercentile(0));      // rank 1 at least
        Assert.Equal(31.5, histogram.Mean);
    }

    [Theory]
    [InlineData(63, 63)]
    [InlineData(64, 64)]
    [InlineData(127, 127)]
    [InlineData(128, 128)]
    [InlineData(129, 128)]
    [InlineData(130, 129)]
    [InlineData(256, 192)]
    [InlineData(259, 192)]
    [InlineData(260, 193)]
    [InlineData(long.MaxValue, LatencyHistogram.BucketCount - 1)]
    public void BucketsAreSixtyFourPerPowerOfTwo(long value, int bucket) => Assert.Equal(bucket, LatencyHistogram.BucketOf(value));

    [Fact]
    public void EveryBucketMidpointFallsBackIntoItsBucket()
    {
        for (int bucket = 0; bucket < LatencyHistogram.BucketCount - 1; bucket++)
        {
            Assert.Equal(bucket, LatencyHistogram.BucketOf((long)LatencyHistogram.Midpoint(bucket)));
        }
    }

    [Fact]
    public void PercentilesAreWithinHalfABucketOfTheExactOnes()
    {
        var random = new Random(20261125);
        var values = new long[100_000];
        var histogram = new LatencyHistogram();
        for (int i = 0; i < values.Length; i++)
        {
            // Log-uniform from 1 µs to 1 s, like latencies.
            values[i] = (long)Math.Exp(random.NextDouble() * Math.Log(1e6)) * 1000;
            histogram.Record(values[i]);
        }

        Array.Sort(values);
        foreach (double percent in new[] { 1, 50, 90, 99, 99.9, 100 })
        {
            long exact = values[(int)Math.Ceiling(percent / 100 * values.Length) - 1];
            double got = histogram.ValueAtPercentile(percent);
            Assert.InRange(got, exact * (1 - (1 / 64.0)), exact * (1 + (1 / 64.0)));
        }

        Assert.Equal(values[0], histogram.Min);
        Assert.Equal(values[^1], histogram.Max);
        Assert.Equal(values[^1], histogram.ValueAtPercentile(100));
    }

    [Fact]
    public void RecordingFromManyThreadsAtOnceLosesNothing()
    {
        var histogram = new LatencyHistogram();

        Parallel.For(0, 4, thread =>
        {
            for (int i = 1; i <= 50_000; i++)
            {
                histogram.Record((thread * 1_000_000L) + i);
            }
        });

        Assert.Equal(200_000, histogram.Count);
        Assert.Equal(1, histogram.Min);
        Assert.Equal(3_050_000, histogram.Max);
        Assert.Equal(((1 + 50_000) / 2.0) + 1_500_000, histogram.Mean, 3);
    }

    [Fact]
    public void NegativeValuesCountAsZero()
    {
        var histogram = new LatencyHistogram();

        histogram.Record(-5);

        Assert.Equal(1, histogram.Count);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.ValueAtPercentile(50));
    }
}
