using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Tests;

public class AppendTests
{
    [Fact]
    public async Task EveryColumnRoundTripsWithTheExactBytesIncludingInvalidUtf8AndGbk()
    {
        using var temp = new TempJournal();
        var gbk = MessageText.GetEncoding("gbk");
        byte[][] utf8Messages =
        [
            "hello"u8.ToArray(),
            [],
            [0xFF, 0xFE, 0x41],
            "tab\there \u001b[31m red"u8.ToArray(),
            "中文 ✓"u8.ToArray(),
            [0xE4, 0xB8], // truncated sequence
        ];
        byte[][] gbkMessages = [[.. gbk.GetBytes("你好"), 0x81, 0x20, 0xFF]];
        var v4 = TestBatches.Connection(id: 7, client: "::ffff:192.0.2.9", clientPort: 40000, local: "::ffff:127.0.0.1", localPort: 12345);
        var v6 = TestBatches.Connection(id: 8, client: "2001:db8::5", clientPort: 40001, local: "::1", localPort: 9000);
        var utf8Batch = TestBatches.Of(v4, TestBatches.Time, MessageText.Utf8, utf8Messages);
        var gbkBatch = TestBatches.Of(v6, TestBatches.Time.AddSeconds(1), gbk, gbkMessages);

        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(1, await journal.AppendAsync(utf8Batch, CancellationToken.None));
            Assert.Equal(7, await journal.AppendAsync(gbkBatch, CancellationToken.None));
        }

        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(7, records.Count);
        for (int i = 0; i < utf8Messages.Length; i++)
        {
            var record = records[i];
            Assert.Equal(i + 1, record.Id);
            Assert.Equal(utf8Messages[i], record.Raw);
            Assert.Equal(MessageText.Utf8.GetString(utf8Messages[i]), record.Text);
            Assert.Equal(65001, record.CodePage);
            Assert.Equal(TestBatches.Time.AddTicks(-(TestBatches.Time.Ticks % 10)), record.ReceivedAt); // microseconds kept
            Assert.Equal(TimeSpan.Zero, record.ReceivedAt.Offset);
            Assert.Equal(IPAddress.Parse("192.0.2.9"), record.ClientAddress);
            Assert.Equal(40000, record.ClientPort);
            Assert.Equal(IPAddress.Parse("127.0.0.1"), record.LocalAddress);
            Assert.Equal(12345, record.LocalPort);
            Assert.Equal(7, record.ConnectionId);
        }

        var chinese = records[6];
        Assert.Equal(gbkMessages[0], chinese.Raw);
        Assert.Equal(936, chinese.CodePage);
        Assert.StartsWith("你好", chinese.Text, StringComparison.Ordinal);
        Assert.Equal(MessageText.DecodeEscaped(gbkMessages[0], gbk), chinese.DisplayText);
        Assert.StartsWith("你好\\x81", chinese.DisplayText, StringComparison.Ordinal); // the invalid byte stays visible
        Assert.Equal("[2001:db8::5]:40001", chinese.Client);
        Assert.Equal("[::1]:9000", chinese.Local);
        Assert.Equal(8, chinese.ConnectionId);
    }

    [Fact]
    public async Task FormatLineIsExactlyTheLineTheServerPrints()
    {
        using var temp = new TempJournal();
        var gbk = MessageText.GetEncoding("gbk");
        MessageBatch[] batches =
        [
            TestBatches.Of(TestBatches.Connection(client: "192.0.2.1", clientPort: 1234), TestBatches.Time, MessageText.Utf8,
                "plain"u8.ToArray(), [0x1B, 0x5B, 0x32, 0x4A, 0xFF], "back\\slash\r\n"u8.ToArray(), "\u202Eevil"u8.ToArray()),
            TestBatches.Of(TestBatches.Connection(client: "::1", clientPort: 4321), TestBatches.Time.AddMilliseconds(5), gbk,
                [.. gbk.GetBytes("中文"), 0x81]),
        ];

        // The server's output formats each batch with the shared MessageLineWriter; the journal's reader must agree.
        var printed = new System.Buffers.ArrayBufferWriter<byte>();
        using (var lines = new MessageLineWriter())
        {
            await using var journal = SqliteMessageJournal.Open(temp.Path);
            foreach (var batch in batches)
            {
                lines.Write(batch, printed);
                await journal.AppendAsync(batch, CancellationToken.None);
            }
        }

        string[] serverLines = Encoding.UTF8.GetString(printed.WrittenSpan).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(serverLines, records.Select(r => r.FormatLine()));
        Assert.Equal("2024-05-01T12:30:15.128Z [::1]:4321 中文\\x81", records[^1].FormatLine());
    }

    [Fact]
    public async Task IdsAreConsecutiveWithinABatchAndIncreaseAcrossBatches()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        long first = await journal.AppendAsync(TestBatches.Of("a", "b", "c"), CancellationToken.None);
        long second = await journal.AppendAsync(TestBatches.Of("d"), CancellationToken.None);
        long third = await journal.AppendAsync(TestBatches.Of("e", "f"), CancellationToken.None);

        Assert.Equal([1, 4, 5], [first, second, third]);
        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], records.Select(r => r.Text));
        Assert.Equal([1, 2, 3, 4, 5, 6], records.Select(r => r.Id));
    }

    [Fact]
    public async Task IdsContinueAfterTheJournalIsReopened()
    {
        using var temp = new TempJournal();
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            await journal.AppendAsync(TestBatches.Of("a", "b"), CancellationToken.None);
        }

        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(3, await journal.AppendAsync(TestBatches.Of("c"), CancellationToken.None));
        }

        Assert.Equal(["a", "b", "c"], (await Read.AllAsync(temp.Path)).Select(r => r.Text));
    }

    [Fact]
    public async Task ManyConcurrentAppendersAreAllStoredExactlyOnceUnderTheirIds()
    {
        const int Tasks = 50, BatchesPerTask = 200;
        using var temp = new TempJournal();
        var firstIds = new long[Tasks, BatchesPerTask];
        await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxQueuedBatches = 16 }))
        {
            await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
            {
                var connection = TestBatches.Connection(id: t + 1);
                for (int b = 0; b < BatchesPerTask; b++)
                {
                    int count = 1 + (b % 3);
                    var messages = Enumerable.Range(0, count).Select(m => Encoding.UTF8.GetBytes($"{t}/{b}/{m}")).ToArray();
                    firstIds[t, b] = await journal.AppendAsync(TestBatches.Of(connection, TestBatches.Time, MessageText.Utf8, messages), CancellationToken.None);
                }
            })));
            Assert.True(journal.Commits < Tasks * BatchesPerTask, "concurrent batches should share commits");
        }

        var byId = (await Read.AllAsync(temp.Path)).ToDictionary(r => r.Id);
        int expected = 0;
        for (int t = 0; t < Tasks; t++)
        {
            for (int b = 0; b < BatchesPerTask; b++)
            {
                for (int m = 0; m < 1 + (b % 3); m++)
                {
                    var record = byId[firstIds[t, b] + m];
                    Assert.Equal($"{t}/{b}/{m}", record.Text);
                    Assert.Equal(t + 1, record.ConnectionId);
                    expected++;
                }
            }
        }

        Assert.Equal(expected, byId.Count);
        Assert.Equal(expected, byId.Keys.Max()); // no gaps: 1..N
    }

    [Fact]
    public async Task DisposeWritesWhatIsQueuedBeforeClosing()
    {
        using var temp = new TempJournal();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new JournalHooks { BeforeTransactionAsync = () => gate.Task };
        var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);
        var append = journal.AppendAsync(TestBatches.Of("queued"), CancellationToken.None).AsTask();
        var dispose = journal.DisposeAsync().AsTask();
        await Task.Delay(50);
        Assert.False(dispose.IsCompleted);

        gate.SetResult();
        await dispose;
        Assert.Equal(1, await append);
        Assert.Equal(["queued"], (await Read.AllAsync(temp.Path)).Select(r => r.Text));
    }

    [Fact]
    public async Task AppendAfterDisposeThrowsObjectDisposed()
    {
        using var temp = new TempJournal();
        var journal = SqliteMessageJournal.Open(temp.Path);
        await journal.DisposeAsync();
        await journal.DisposeAsync(); // twice is fine

        Assert.Throws<ObjectDisposedException>(() => journal.AppendAsync(TestBatches.Of("late"), CancellationToken.None));
    }

    [Fact]
    public async Task EmptyBatchIsRefused()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        Assert.Throws<ArgumentException>(() => journal.AppendAsync(TestBatches.Of(), CancellationToken.None));
    }

    [Fact]
    public async Task FileIsCreatedInWalModeWithTheChosenSynchronousLevel()
    {
        using var temp = new TempJournal();
        foreach (var (durability, expected) in new[] { (JournalDurability.Normal, 1L), (JournalDurability.Full, 2L) })
        {
            long synchronous = -1;
            var hooks = new JournalHooks { ConnectionOpened = c => synchronous = Sql.Scalar<long>(c, "PRAGMA synchronous") };
            await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { Durability = durability }, null, JournalSchema.Steps, hooks))
            {
                await journal.AppendAsync(TestBatches.Of("x"), CancellationToken.None);
                Assert.True(File.Exists(temp.Path + "-wal"));
            }

            Assert.Equal(expected, synchronous);
        }

        Assert.Equal("wal", Sql.Scalar<string>(temp.Path, "PRAGMA journal_mode"));
    }

    [Fact]
    public void MissingFolderIsReportedInOneSentence()
    {
        using var temp = new TempJournal();
        string path = Path.Combine(temp.Folder, "nope", "tcptalk.db");
        var error = Assert.Throws<JournalUnavailableException>(() => SqliteMessageJournal.Open(path));
        Assert.Equal($"journal {path} cannot be created: folder {Path.Combine(temp.Folder, "nope")} does not exist", error.Message);
    }
}
