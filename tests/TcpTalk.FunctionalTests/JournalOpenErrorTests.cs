using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// Every way a journal cannot be opened is a journal error (exit 11) in one line that says why, for
/// <c>serve</c> and <c>messages</c> alike: never exit 1 ("a bug"), never a runtime resource key.
/// </summary>
public sealed class JournalOpenErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-journal-open-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string, string> ServePaths() => new()
    {
        { "/proc/x.db", "does not allow creating files" },
        { "/etc", "it is a directory" },
        { "/nonexistent-tcptalk-folder/x.db", "does not exist" },
    };

    [LinuxTheory]
    [MemberData(nameof(ServePaths))]
    public async Task ServeSaysWhyTheJournalCannotBeOpened(string path, string reason)
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--port", "0", "--journal", path]);
        AssertJournalError(code, stderr, path, reason);
    }

    [NotRootFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ServeSaysWhenTheFolderIsNotWritable()
    {
        string folder = Path.Combine(_dir, "locked");
        Directory.CreateDirectory(folder);
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        try
        {
            string path = Path.Combine(folder, "x.db");
            var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--port", "0", "--journal", path]);
            AssertJournalError(code, stderr, path, "permission denied");
        }
        finally
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [LinuxTheory]
    [InlineData("text", "is not an SQLite database")]
    [InlineData("foreign", "is an SQLite database but not a tcptalk journal")]
    [InlineData("/dev/null", "is empty")]
    [InlineData("/etc", "it is a directory")]
    public async Task MessagesSaysWhyTheFileIsNotAJournal(string kind, string reason)
    {
        string path = kind switch
        {
            "text" => Path.Combine(_dir, "notajournal.txt"),
            "foreign" => Path.Combine(_dir, "foreign.db"),
            _ => kind,
        };
        if (kind == "text")
        {
            await File.WriteAllTextAsync(path, "these are not the bytes of an SQLite database, just some text that is long enough\n");
        }
        else if (kind == "foreign")
        {
            await File.WriteAllBytesAsync(path, ForeignDatabase());
        }

        var (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", path]);
        AssertJournalError(code, stderr, path, reason);
    }

    private static void AssertJournalError(int code, IReadOnlyList<string> stderr, string path, string reason)
    {
        // serve binds before it opens the journal (a serve that cannot listen leaves no journal behind), so its
        // Information lines about listening and stopping may come first; the failure itself is one line.
        string line = Assert.Single(stderr, l => !ServeLog.IsInformation(l));
        Assert.True(code == 11, $"exit {code}: {line}");
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
        Assert.DoesNotContain("IO_", line, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", line, StringComparison.Ordinal);
    }

    /// <summary>A one-table SQLite database of another program, made by the journal's own SQLite.</summary>
    private byte[] ForeignDatabase()
    {
        string path = Path.Combine(_dir, "made.db");
        SQLitePCL.Batteries_V2.Init();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "CREATE TABLE accounts (id INTEGER PRIMARY KEY)";
            command.ExecuteNonQuery();
        }

        return File.ReadAllBytes(path);
    }
}

/// <summary>A theory on Linux paths (/proc, /etc, /dev/null); skipped elsewhere, saying so.</summary>
public sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "uses Linux paths (/proc, /etc, /dev/null)";
        }
    }
}

/// <summary>A fact about file permissions: root ignores them, so it is skipped there, saying so.</summary>
public sealed class NotRootFactAttribute : FactAttribute
{
    public NotRootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName == "root")
        {
            Skip = $"needs Linux and a user other than root, whom permissions do not stop (running as {Environment.UserName})";
        }
    }
}
