using TcpTalk.Journal;

namespace TcpTalk.Cli.Tests;

/// <summary>The one place exceptions become a <c>tcptalk:</c> line and an exit code (README, "Exit codes").</summary>
public class ErrorReporterTests
{
    [Fact]
    public void AnUnexpectedErrorWithABareResourceKeySaysWhatHappenedInWords()
    {
        // What the runtime's messages look like when they are stripped (UseSystemResourceKeys).
        var (code, message) = ErrorReporter.Describe(new FileNotFoundException("IO_FileNotFound_FileName, /proc/x.db.lock"));

        Assert.Equal(ExitCode.Failure, code);
        Assert.Equal("unexpected error: FileNotFoundException: file not found: /proc/x.db.lock", message);
        Assert.Equal("permission denied", ErrorReporter.Readable(new UnauthorizedAccessException("UnauthorizedAccess_IODenied_Path")));
    }

    [Fact]
    public void AnUnexpectedErrorWithARealMessageKeepsIt()
    {
        var (code, message) = ErrorReporter.Describe(new FileNotFoundException("Could not find file '/proc/x.db.lock'."));

        Assert.Equal(ExitCode.Failure, code);
        Assert.Equal("unexpected error: FileNotFoundException: Could not find file '/proc/x.db.lock'.", message);
        Assert.Equal("a_b is not a key here", ErrorReporter.Readable(new IOException("a_b is not a key here")));
    }

    [Fact]
    public void EveryJournalExceptionIsExitCode11WhereverItSurfaces()
    {
        Assert.Equal(ExitCode.JournalFailed, ErrorReporter.Describe(new JournalFormatException("/x.db", "/x.db is not a tcptalk journal")).Code);
        Assert.Equal(ExitCode.JournalFailed, ErrorReporter.Describe(new JournalInUseException("/x.db", 42)).Code);
        Assert.Equal(ExitCode.JournalFailed, ErrorReporter.Describe(new TcpTalk.Messages.JournalUnavailableException("journal gone")).Code);
        Assert.Equal(ExitCode.Failure, ErrorReporter.Describe(new IOException("disk on fire")).Code);
    }

    [Fact]
    public void AReportIsOneLineStartingWithTcptalk()
    {
        using var stderr = new StringWriter();

        int code = ErrorReporter.Report(new UserErrorException(ExitCode.Usage, "two\nlines"), stderr);

        Assert.Equal(2, code);
        Assert.Equal("tcptalk: two lines" + Environment.NewLine, stderr.ToString());
    }
}
