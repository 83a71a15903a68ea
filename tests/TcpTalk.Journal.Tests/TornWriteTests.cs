using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Journal.Tests;

/// <summary>
/// What a crash can leave behind: the WAL (where every commit goes) cut at a random offset, or a byte flipped in
/// it. Reopened, the journal must give back every message committed wholly before the damage, each exactly, and
/// nothing after it: SQLite's frame checksums end the log at the first bad frame, and a commit counts only if its
/// last frame is before that.
/// </summary>
public class TornWriteTests
{
    private const int Commits = 40;

    [Fact]
    public async Task CutAtRandomOffsetsKeepsEveryWholeCommitBeforeTheCutAndInventsNothing()
    {
        using var temp = new TempJournal();
        var (written, walAfter, db, wal) = await WriteAndSnapshotAsync(temp);
        var random = new Random(5);
        for (int round = 0; round < 25; round++)
        {
            int cut = round == 0 ? wal.Length : random.Next(wal.Length + 1);
            string copy = Place(temp, round, db, wal.AsSpan(0, cut));
            await AssertPrefixAsync(copy, written, ExpectedMessages(walAfter, cut), $"WAL cut at {cut} of {wal.Length}");
        }
    }

    [Fact]
    public async Task FlippedByteEndsTheLogAtItsFrameAndInventsNothing()
    {
        using var temp = new TempJournal();
        var (written, walAfter, db, wal) = await WriteAndSnapshotAsync(temp);
        int pageSize = (int)Sql.Scalar<long>(temp.Path, "PRAGMA page_size");
        int frame = 24 + pageSize;
        var random = new Random(6);
        for (int round = 0; round < 25; round++)
        {
            int at = round == 0 ? 3 : random.Next(wal.Length); // round 0: the WAL header's magic
            byte[] damaged = (byte[])wal.Clone();
            damaged[at] ^= (byte)(1 << random.Next(8));
            // A flip in the 32-byte header voids the whole WAL; a flip in a frame voids that frame and all after it.
            int validEnd = at < 32 ? 0 : 32 + ((at - 32) / frame * frame);
            string copy = Place(temp, round, db, damaged);
            await AssertPrefixAsync(copy, written, ExpectedMessages(walAfter, validEnd), $"byte {at} of {wal.Length} flipped");
        }
    }

    /// <summary>Commits batches one at a time, noting the WAL's length after each; then copies db and WAL while open.</summary>
    private static async Task<(List<byte[]> Written, List<(long WalLength, int Messages)> WalAfter, byte[] Db, byte[] Wal)> WriteAndSnapshotAsync(TempJournal temp)
    {
        var written = new List<byte[]>();
        var walAfter = new List<(long, int)>();
        var random = new Random(4);
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        for (int c = 0; c < Commits; c++)
        {
            var messages = Enumerable.Range(0, 1 + random.Next(5)).Select(m => Encoding.UTF8.GetBytes($"{c}/{m}/" + new string('x', random.Next(400)))).ToArray();
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: 1 + c % 3), TestBatches.Time, MessageText.Utf8, messages), CancellationToken.None);
            written.AddRange(messages);
            walAfter.Add((new FileInfo(temp.Path + "-wal").Length, written.Count));
        }

        byte[] db = ReadShared(temp.Path);
        byte[] wal = ReadShared(temp.Path + "-wal");
        Assert.Equal(walAfter[^1].Item1, wal.Length); // no checkpoint ran: every commit is in the WAL
        return (written, walAfter, db, wal);
    }

    private static int ExpectedMessages(List<(long WalLength, int Messages)> walAfter, long validEnd) =>
        walAfter.LastOrDefault(w => w.WalLength <= validEnd).Messages;

    private static async Task AssertPrefixAsync(string path, List<byte[]> written, int expected, string what)
    {
        var records = await Read.AllAsync(path);
        Assert.True(records.Count == expected, $"{what}: read {records.Count} messages, expected the {expected} committed before the damage");
        for (int i = 0; i < records.Count; i++)
        {
            Assert.Equal(i + 1, records[i].Id);
            Assert.Equal(written[i], records[i].Raw);
        }
    }

    private static string Place(TempJournal temp, int round, byte[] db, ReadOnlySpan<byte> wal)
    {
        string folder = Path.Combine(temp.Folder, $"copy{round}");
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "tcptalk.db");
        File.WriteAllBytes(path, db);
        File.WriteAllBytes(path + "-wal", wal.ToArray());
        return path;
    }

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
