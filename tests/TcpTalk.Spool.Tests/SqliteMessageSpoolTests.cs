using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Client;

namespace TcpTalk.Spool.Tests;

public sealed class SqliteMessageSpoolTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static ReadOnlyMemory<byte>[] Messages(params string[] texts) => [.. texts.Select(t => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(t))];

    private static string[] Texts(IEnumerable<SpooledMessage> messages) => [.. messages.Select(m => Encoding.UTF8.GetString(m.Payload.Span))];

    [Fact]
    public void AppendedMessagesAreReadBackInOrderWithIncreasingSequenceNumbers()
    {
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        Assert.Equal(2, spool.Append(Messages("a", "b")));
        Assert.Equal(3, spool.Append(Messages("")));
        var all = spool.Read(0, 10);
        Assert.Equal([1L, 2L, 3L], all.Select(m => m.Sequence));
        Assert.Equal(["a", "b", ""], Texts(all));
        Assert.Equal(["b"], Texts(spool.Read(1, 1)));
    }

    [Fact]
    public void AcknowledgedMessagesLeaveAndSequenceNumbersAreNeverReused()
    {
        using (var spool = SqliteMessageSpool.Open(_temp.Spool))
        {
            spool.Append(Messages("a", "b", "c"));
            spool.Acknowledge(3);
            Assert.Empty(spool.Read(0, 10));
        }

        using (var again = SqliteMessageSpool.Open(_temp.Spool))
        {
            Assert.Equal(4, again.Append(Messages("d")));
            Assert.Equal(new SpoolBacklog(1, 1, again.Backlog.Oldest, 4), again.Backlog);
        }
    }

    [Fact]
    public void ReopeningKeepsWhatWasNotAcknowledged()
    {
        using (var spool = SqliteMessageSpool.Open(_temp.Spool))
        {
            spool.Append(Messages("sent", "unacknowledged", "not sent"));
            spool.Acknowledge(1);
        }

        using var again = SqliteMessageSpool.Open(_temp.Spool);
        Assert.Equal(["unacknowledged", "not sent"], Texts(again.Read(0, 10)));
    }

    [Fact]
    public void BacklogCountsMessagesBytesTheOldestAndEveryAcceptedOne()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero));
        using var spool = SqliteMessageSpool.Open(_temp.Spool, time);
        Assert.Equal(new SpoolBacklog(0, 0, null, 0), spool.Backlog);
        spool.Append(Messages("abc"));
        time.Advance(TimeSpan.FromSeconds(5));
        spool.Append(Messages("de", "f"));
        Assert.Equal(new SpoolBacklog(3, 6, time.GetUtcNow().AddSeconds(-5), 3), spool.Backlog);
        spool.Acknowledge(1);
        Assert.Equal(new SpoolBacklog(2, 3, time.GetUtcNow(), 3), spool.Backlog);
        Assert.Equal(spool.Backlog, SqliteMessageSpool.ReadBacklog(_temp.Spool));
    }

    [Fact]
    public void ASecondOpenerInTheSameProcessFailsAtOnce()
    {
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var refused = Assert.Throws<SpoolInUseException>(() => SqliteMessageSpool.Open(_temp.Spool));
        Assert.Equal($"spool {_temp.Spool} is in use by process {Environment.ProcessId} (one sender per spool directory)", refused.Message);
    }

    [Fact]
    public async Task ASecondOpenerInAnotherProcessFailsAtOnceNamingTheHolder()
    {
        using var holder = SpoolHelper.Start("hold", _temp.Spool);
        Assert.Equal($"holding {holder.Id}", await holder.ReadLineAsync());
        var refused = Assert.Throws<SpoolInUseException>(() => SqliteMessageSpool.Open(_temp.Spool));
        Assert.Equal(holder.Id, refused.ProcessId);
        Assert.Equal(0, await holder.StopAsync());
        using var after = SqliteMessageSpool.Open(_temp.Spool); // released with its holder
    }

    [Fact]
    public async Task ALockIsReleasedWhenItsHolderIsKilled()
    {
        using var holder = SpoolHelper.Start("hold", _temp.Spool);
        Assert.StartsWith("holding ", await holder.ReadLineAsync());
        holder.Kill();
        using var after = SqliteMessageSpool.Open(_temp.Spool);
    }

    [Fact]
    public void ReadBacklogWorksWhileAWriterHoldsTheSpool()
    {
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        spool.Append(Messages("x", "yz"));
        var backlog = SqliteMessageSpool.ReadBacklog(_temp.Spool);
        Assert.Equal((2L, 3L, 2L), (backlog.Messages, backlog.Bytes, backlog.LastSequence));
    }

    [Fact]
    public void ReadBacklogOfAMissingSpoolSaysNothingWasSpooled()
    {
        var missing = Assert.Throws<SpoolUnavailableException>(() => SqliteMessageSpool.ReadBacklog(_temp.Spool));
        Assert.Equal($"no spool in {_temp.Spool} (no spool.db): nothing was ever spooled there", missing.Message);
        Assert.False(Directory.Exists(_temp.Spool));
    }

    [Fact]
    public void ADamagedMessageIsRefusedNotSent()
    {
        using (var spool = SqliteMessageSpool.Open(_temp.Spool))
        {
            spool.Append(Messages("good", "flipped"));
        }

        using (var raw = new SqliteConnection($"Data Source={Path.Combine(_temp.Spool, "spool.db")};Pooling=false"))
        {
            raw.Open();
            using var damage = raw.CreateCommand();
            damage.CommandText = "UPDATE spool SET payload = X'666C6970706564FF' WHERE seq = 2";
            damage.ExecuteNonQuery();
        }

        using var again = SqliteMessageSpool.Open(_temp.Spool);
        Assert.Equal(["good"], Texts(again.Read(0, 1)));
        var damaged = Assert.Throws<SpoolDamagedException>(() => again.Read(0, 10));
        Assert.Equal(2, damaged.Sequence);
    }

    [Fact]
    public void AFileThatIsNotASpoolIsRefused()
    {
        Directory.CreateDirectory(_temp.Spool);
        using (var other = new SqliteConnection($"Data Source={Path.Combine(_temp.Spool, "spool.db")};Pooling=false"))
        {
            other.Open();
            using var create = other.CreateCommand();
            create.CommandText = "CREATE TABLE something (x)";
            create.ExecuteNonQuery();
        }

        var refused = Assert.Throws<SpoolUnavailableException>(() => SqliteMessageSpool.Open(_temp.Spool));
        Assert.Equal($"spool {_temp.Spool}: spool.db is not a tcptalk spool", refused.Message);
    }
}
