using System.Globalization;
using System.Text;

namespace TcpTalk.Spool.Tests;

/// <summary>
/// The spool's commit point under SIGKILL: a helper process appends batches without pause and is killed at random
/// moments; every batch it reported committed is there, no batch is there in part, sequence numbers have no gaps,
/// and every message passes its CRC.
/// </summary>
public sealed class SpoolCrashTests : IDisposable
{
    private const int Batch = 7;
    private const int Kills = 5;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task KillingTheAppenderMidAppendLosesNoCommittedBatchAndLeavesNoPartOfOne()
    {
        var random = new Random(20261202);
        long reported = 0;
        for (int kill = 0; kill < Kills; kill++)
        {
            using var appender = SpoolHelper.Start("append", _temp.Spool, Batch.ToString(CultureInfo.InvariantCulture));
            int lines = random.Next(3, 40);
            for (int i = 0; i < lines; i++)
            {
                string line = await appender.ReadLineAsync();
                Assert.StartsWith("appended ", line);
                reported = long.Parse(line["appended ".Length..], CultureInfo.InvariantCulture);
            }

            appender.Kill(); // mid-append: it never pauses between batches
        }

        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var all = spool.Read(0, int.MaxValue); // every CRC checked on the way
        long last = spool.Backlog.LastSequence;
        Assert.True(last >= reported, $"the spool ends at {last}, but {reported} was reported committed");
        Assert.Equal(0, last % Batch);
        Assert.Equal(Enumerable.Range(1, (int)last).Select(i => (long)i), all.Select(m => m.Sequence));
        Assert.All(all, m => Assert.StartsWith($"m{m.Sequence} ", Encoding.ASCII.GetString(m.Payload.Span), StringComparison.Ordinal));
    }
}
