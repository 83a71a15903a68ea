using TcpTalk.Journal;
using TcpTalk.Journal.Postgres;
using TcpTalk.Messages;

namespace TcpTalk.Cli.Commands;

/// <summary><c>messages --export FILE</c>: a consistent copy of a SQLite journal (<see cref="JournalExport"/>), one line on stdout.</summary>
internal static class JournalExporting
{
    public static int Run(string journal, string file, bool force)
    {
        if (PostgresJournalUri.IsPostgresUri(journal))
        {
            throw new UserErrorException(ExitCode.Usage, "--export copies a SQLite journal; a PostgreSQL journal is exported with pg_dump or COPY (docs/JOURNAL.md)");
        }

        long lastId;
        try
        {
            lastId = JournalExport.Copy(journal, file, force);
        }
        catch (FileNotFoundException e)
        {
            throw new UserErrorException(ExitCode.JournalFailed, e.Message, e);
        }
        catch (Exception e) when (e is JournalFormatException or JournalUnavailableException)
        {
            throw new UserErrorException(ExitCode.JournalFailed, e.Message, e);
        }
        catch (IOException e)
        {
            throw new UserErrorException(ExitCode.Usage, e.Message, e);
        }

        Console.Out.WriteLine(lastId == 0
            ? $"exported an empty journal to {Path.GetFullPath(file)}"
            : $"exported the journal up to id {lastId} to {Path.GetFullPath(file)}");
        return (int)ExitCode.Success;
    }
}
