using Microsoft.Extensions.Logging;

namespace TcpTalk.Journal.Postgres;

/// <summary>Every log message of the PostgreSQL journal, with stable event ids (200-299). Message contents never go to the log.</summary>
internal static partial class PostgresJournalLog
{
    [LoggerMessage(200, LogLevel.Information, "Journal {Uri} opened on {Host} (PostgreSQL {ServerVersion}): schema version {Version}, node {Node}")]
    public static partial void Opened(ILogger logger, string uri, string host, string serverVersion, int version, string node);

    [LoggerMessage(201, LogLevel.Information, "Journal {Uri} upgraded from schema version {From} to {To}")]
    public static partial void Upgraded(ILogger logger, string uri, int from, int to);

    [LoggerMessage(202, LogLevel.Information, "Journal {Uri} closed after {Messages} message(s) in {Commits} commit(s)")]
    public static partial void Closed(ILogger logger, string uri, long messages, long commits);

    [LoggerMessage(203, LogLevel.Information, "Journal {Uri}: {Host} has a synchronous standby ({Standbys}; synchronous_commit={SynchronousCommit}): an acknowledged message is on two machines")]
    public static partial void SynchronousStandby(ILogger logger, string uri, string host, string standbys, string synchronousCommit);

    [LoggerMessage(204, LogLevel.Warning, "Journal {Uri}: {Host} has no synchronous standby ({Why}; synchronous_commit={SynchronousCommit}): an acknowledged message is on that one machine only until replication catches up (docs/SCALING.md)")]
    public static partial void NoSynchronousStandby(ILogger logger, string uri, string host, string why, string synchronousCommit);

    [LoggerMessage(210, LogLevel.Error, "Journal {Uri} could not store {Messages} message(s) of {Batches} batch(es): {Reason}; affected clients get an error line, nothing unstored is acknowledged, writes are retried on whichever host is read-write")]
    public static partial void WriteFailed(ILogger logger, string uri, int messages, int batches, string reason);

    [LoggerMessage(211, LogLevel.Information, "Journal {Uri} is writable again on {Host} after {Failures} failed commit(s)")]
    public static partial void Recovered(ILogger logger, string uri, string host, long failures);

    [LoggerMessage(212, LogLevel.Debug, "Journal {Uri} commit of {Messages} message(s) failed: {Reason}")]
    public static partial void WriteFailedAgain(ILogger logger, Exception exception, string uri, int messages, string reason);

    [LoggerMessage(213, LogLevel.Warning, "Journal {Uri}: {Host} says: {Notice}")]
    public static partial void ServerNotice(ILogger logger, string uri, string host, string notice);
}
