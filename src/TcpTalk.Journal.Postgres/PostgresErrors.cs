using System.Net.Sockets;
using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>Turns Npgsql's and PostgreSQL's errors into one sentence for the operator and the client.</summary>
internal static class PostgresErrors
{
    /// <summary>One line: the server's message and SQLSTATE, or the network error.</summary>
    public static string Describe(Exception error) => error switch
    {
        PostgresException p => $"{p.MessageText} (SQLSTATE {p.SqlState})",
        NpgsqlException { InnerException: SocketException s } => $"cannot reach the database: {s.Message}",
        NpgsqlException { InnerException: IOException or EndOfStreamException } n => $"connection to the database lost: {n.InnerException!.Message}",
        NpgsqlException { InnerException: TimeoutException } => "the database did not answer in time",
        NpgsqlException n => n.Message,
        TimeoutException => "the database did not answer in time",
        _ => error.Message,
    };

    /// <summary>
    /// Whether a failure of COMMIT leaves the transaction's outcome unknown. Only an ERROR the server answered with
    /// (the connection still up) means it rolled back; a lost connection or a FATAL/PANIC (shutdown, a terminated
    /// backend, a crash) may come after the commit record reached the disk, or the standby.
    /// </summary>
    public static bool OutcomeUnknown(Exception error) =>
        error is not PostgresException { Severity: "ERROR" };
}
