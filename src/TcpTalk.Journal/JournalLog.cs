using Microsoft.Extensions.Logging;

namespace TcpTalk.Journal;

/// <summary>Every log message of the journal, with stable event ids (100-199). Message contents never go to the log.</summary>
internal static partial class JournalLog
{
    [LoggerMessage(100, LogLevel.Information, "Journal {Path} opened: schema version {Version}, durability {Durability}, next id {NextId}")]
    public static partial void Opened(ILogger logger, string path, int version, JournalDurability durability, long nextId);

    [LoggerMessage(101, LogLevel.Information, "Journal {Path} upgraded from schema version {From} to {To}")]
    public static partial void Upgraded(ILogger logger, string path, int from, int to);

    [LoggerMessage(102, LogLevel.Information, "Journal {Path} closed after {Messages} message(s) in {Commits} commit(s)")]
    public static partial void Closed(ILogger logger, string path, long messages, long commits);

    [LoggerMessage(110, LogLevel.Error, "Journal {Path} could not store {Messages} message(s) of {Batches} batch(es): {Reason}; affected clients get an error line, nothing unstored is acknowledged, writes are retried")]
    public static partial void WriteFailed(ILogger logger, string path, int messages, int batches, string reason);

    [LoggerMessage(112, LogLevel.Debug, "Journal {Path} commit of {Messages} message(s) failed: {Reason}")]
    public static partial void WriteFailedAgain(ILogger logger, Exception exception, string path, int messages, string reason);

    [LoggerMessage(120, LogLevel.Information, "Journal {Path} dropped its {Messages} oldest message(s) whole ({Limit}); the oldest id kept is {OldestKept}")]
    public static partial void Dropped(ILogger logger, string path, long messages, string limit, long oldestKept);

    [LoggerMessage(121, LogLevel.Warning, "Journal {Path} could not drop old messages: {Reason}; it tries again in a second")]
    public static partial void RetentionFailed(ILogger logger, string path, string reason);

    [LoggerMessage(111, LogLevel.Information, "Journal {Path} is writable again after {Failures} failed commit(s)")]
    public static partial void Recovered(ILogger logger, string path, long failures);
}
