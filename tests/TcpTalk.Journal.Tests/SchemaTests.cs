using TcpTalk.Messages;
namespace TcpTalk.Journal.Tests;

public class SchemaTests
{
    [Fact]
    public async Task NewFileGetsTheCurrentVersionAndTheJournalMark()
    {
        using var temp = new TempJournal();
        await using (SqliteMessageJournal.Open(temp.Path))
        {
        }

        Assert.Equal(JournalSchema.CurrentVersion, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));
        Assert.Equal(0x54544A31, (int)Sql.Scalar<long>(temp.Path, "PRAGMA application_id"));
    }

    [Fact]
    public async Task EmptyFileIsTurnedIntoAJournal()
    {
        using var temp = new TempJournal();
        await File.WriteAllBytesAsync(temp.Path, []);
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("first"), CancellationToken.None));
    }

    [Fact]
    public async Task FileFromANewerTcptalkIsRefusedAndLeftUntouched()
    {
        using var temp = new TempJournal();
        await using (SqliteMessageJournal.Open(temp.Path))
        {
        }

        int newer = JournalSchema.CurrentVersion + 1;
        Sql.Execute(temp.Path, $"PRAGMA user_version = {newer}");

        var error = Assert.Throws<JournalFormatException>(() => SqliteMessageJournal.Open(temp.Path));
        Assert.Equal($"journal {temp.Path} has schema version {newer}, but this tcptalk knows versions up to {JournalSchema.CurrentVersion}; use a newer tcptalk", error.Message);
        var readError = Assert.Throws<JournalFormatException>(() => JournalReader.Open(temp.Path));
        Assert.Equal(error.Message, readError.Message);
        Assert.Equal(newer, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));

        await using var again = SqliteMessageJournal.Open(temp.Path + "2"); // the lock was released on the way out
        Assert.Throws<JournalFormatException>(() => SqliteMessageJournal.Open(temp.Path));
    }

    [Fact]
    public async Task Version1FileIsReadAsItIsThenUpgradedKeepingItsMessagesAndIds()
    {
        using var temp = new TempJournal();
        Sql.WriteVersion1(temp.Path, "from", "the past");

        // `tcptalk messages` reads a journal of the previous version without changing it.
        var before = await Read.AllAsync(temp.Path);
        Assert.Equal(["from", "the past"], before.Select(r => r.Text));
        Assert.Equal(1, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));

        await using (var upgraded = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(JournalSchema.CurrentVersion, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));
            Assert.Equal(3, await upgraded.AppendAsync(TestBatches.Of("present", "and more"), CancellationToken.None));
        }

        var records = await Read.AllAsync(temp.Path);
        Assert.Equal([1L, 2, 3, 4], records.Select(r => r.Id));
        Assert.Equal(["from", "the past", "present", "and more"], records.Select(r => r.Text));
        Assert.Equal(before[1].Raw, records[1].Raw);
        Assert.Equal(before[1].Client, records[1].Client);
        Assert.Equal(2, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM messages")); // the old rows stay where they were
        Assert.Equal(1, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM batches"));

        // Newest N spans both tables, still oldest first.
        var newest = await Read.AllAsync(temp.Path, new JournalQuery { Limit = 3, Newest = true });
        Assert.Equal(["the past", "present", "and more"], newest.Select(r => r.Text));
    }

    [Fact]
    public async Task LaterStepUpgradesKeepingIdsAndTheOlderBuildRefusesTheResult()
    {
        using var temp = new TempJournal();
        IReadOnlyList<string> v2 = JournalSchema.Steps;
        IReadOnlyList<string> v3 = [.. JournalSchema.Steps, "ALTER TABLE batches ADD COLUMN note TEXT; CREATE INDEX batches_by_connection ON batches (connection);"];
        await using (var old = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, v2, hooks: null))
        {
            await old.AppendAsync(TestBatches.Of("from", "the past"), CancellationToken.None);
        }

        await using (var upgraded = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, v3, hooks: null))
        {
            Assert.Equal(JournalSchema.CurrentVersion + 1, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));
            Assert.Equal(3, await upgraded.AppendAsync(TestBatches.Of("present"), CancellationToken.None));
        }

        Assert.Equal(2, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM batches WHERE note IS NULL"));

        // And the v2 build now refuses the v3 file, as a released tcptalk would.
        var error = Assert.Throws<JournalFormatException>(() => SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, v2, hooks: null));
        Assert.Contains($"schema version {JournalSchema.CurrentVersion + 1}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UpgradeThatFailsHalfWayLeavesTheOldVersion()
    {
        using var temp = new TempJournal();
        Sql.WriteVersion1(temp.Path, "kept");

        IReadOnlyList<string> broken = [JournalSchema.Version1, JournalSchema.Version2 + " THIS IS NOT SQL;"];
        Assert.ThrowsAny<IOException>(() => SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, broken, hooks: null));

        Assert.Equal(1, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));
        Assert.Equal(0, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM sqlite_schema WHERE name = 'batches'"));
        Assert.Equal(["kept"], Sql.Texts(temp.Path));
    }

    [Fact]
    public void AnotherProgramsDatabaseIsRefusedAndLeftUntouched()
    {
        using var temp = new TempJournal();
        Sql.Execute(temp.Path, "CREATE TABLE accounts (id INTEGER PRIMARY KEY)");

        var error = Assert.Throws<JournalFormatException>(() => SqliteMessageJournal.Open(temp.Path));
        Assert.Equal($"{temp.Path} is an SQLite database but not a tcptalk journal (application_id 00000000); give another --journal path", error.Message);
        Assert.Equal("delete", Sql.Scalar<string>(temp.Path, "PRAGMA journal_mode"));
        Assert.Equal(0, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM sqlite_schema WHERE name = 'messages'"));
    }

    [Fact]
    public async Task FileThatIsNotADatabaseIsRefusedInOneSentence()
    {
        using var temp = new TempJournal();
        await File.WriteAllTextAsync(temp.Path, "these are not the bytes of an SQLite database, just some text that is long enough");

        var error = Assert.Throws<JournalFormatException>(() => SqliteMessageJournal.Open(temp.Path));
        Assert.Equal($"{temp.Path} is not an SQLite database, so it cannot be a tcptalk journal; give another --journal path", error.Message);
    }
}
