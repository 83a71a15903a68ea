using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// Makes a journal file ready for its writer: refuses what cannot be one (a directory, a missing folder, another
/// program's database, a newer schema), takes the file's lock, switches it to WAL and upgrades an older schema.
/// </summary>
internal static class JournalFilePreparation
{
    /// <summary>Prepares <paramref name="fullPath"/>; returns the lock (the caller owns it) and the schema version now in the file.</summary>
    /// <exception cref="JournalInUseException">Another process, or another journal in this one, holds the file.</exception>
    /// <exception cref="JournalFormatException">Not a tcptalk journal, or one from a newer tcptalk.</exception>
    /// <exception cref="JournalUnavailableException">The file cannot be opened or created.</exception>
    public static (JournalLock Lock, int Version) Prepare(string fullPath, JournalOptions options, ILogger logger, IReadOnlyList<string> schemaSteps)
    {
        FileErrors.RefuseDirectory(fullPath);
        string? folder = Path.GetDirectoryName(fullPath);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new JournalUnavailableException($"journal {fullPath} cannot be created: folder {folder} does not exist");
        }

        var fileLock = JournalLock.Acquire(fullPath);
        try
        {
            int from;
            using (var connection = WriterSession.OpenConnection(fullPath, options))
            {
                // Inspect before changing anything (even the journal mode), so another program's file stays untouched.
                var (version, _) = JournalSchema.Inspect(connection, fullPath);
                JournalSchema.RefuseNewer(fullPath, version, schemaSteps.Count);
                WriterSession.SetJournalModeWal(connection, fullPath);
                from = JournalSchema.Upgrade(connection, fullPath, schemaSteps);
            }

            if (from != schemaSteps.Count && from != 0)
            {
                JournalLog.Upgraded(logger, fullPath, from, schemaSteps.Count);
            }

            return (fileLock, schemaSteps.Count);
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>The journal's own exception for an SQLite failure while opening <paramref name="fullPath"/>.</summary>
    public static Exception Translate(string fullPath, SqliteException error) => error.SqliteErrorCode == 26
        ? new JournalFormatException(fullPath, $"{fullPath} is not an SQLite database, so it cannot be a tcptalk journal; give another --journal path", error)
        : new JournalUnavailableException($"journal {fullPath} cannot be opened: {SqliteRuntime.Describe(error)}", error);
}
