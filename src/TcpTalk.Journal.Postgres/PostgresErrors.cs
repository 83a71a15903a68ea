using System.Net.Sockets;
using System.Text.RegularExpressions;
using Npgsql;

namespace TcpTalk.Journal.Postgres;

/// <summary>Turns Npgsql's and PostgreSQL's errors into one sentence for the operator and the client.</summary>
internal static partial class PostgresErrors
{
    /// <summary>
    /// One line: the server's message and SQLSTATE, the network error, or, when no host could be connected to, the
    /// hosts tried (<paramref name="hosts"/>, the URI's list) with each one's reason: connection refused, timed out,
    /// authentication failed, ... (Npgsql's own "Unable to connect to a suitable host" names neither).
    /// </summary>
    public static string Describe(Exception error, IReadOnlyList<PostgresHost> hosts) => error switch
    {
        NpgsqlException { InnerException: AggregateException all } => DescribeConnectFailure([.. all.InnerExceptions], hosts),
        PostgresException p when IsConnectRefusal(p) => DescribeConnectFailure([p], hosts),
        PostgresException p => $"{p.MessageText} (SQLSTATE {p.SqlState})",
        NpgsqlException { InnerException: SocketException } n when IsConnectFailure(n) => DescribeConnectFailure([n], hosts),
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

    /// <summary>
    /// "cannot connect to 127.0.0.1:5432 (connection refused), 127.0.0.1:5433 (timed out)": each host with its reasons,
    /// in the list's order. Npgsql names the host of some attempts only ("Failed to connect to h:p"), and tries the
    /// hosts more than once; a reason of an unnamed attempt that some host already shows is not repeated, any other
    /// is given for the hosts no attempt named. A host never tried within connect_timeout has "no answer in time".
    /// </summary>
    private static string DescribeConnectFailure(IReadOnlyList<Exception> attempts, IReadOnlyList<PostgresHost> hosts)
    {
        var names = hosts.Select(h => h.ToString()).ToList();
        var reasons = new Dictionary<string, List<string>>();
        var unplaced = new List<string>();
        foreach (var attempt in attempts)
        {
            string reason = Reason(attempt);
            var list = HostOf(attempt) is { } host ? reasons.TryGetValue(host, out var l) ? l : reasons[host] = [] : unplaced;
            if (!list.Contains(reason))
            {
                list.Add(reason);
            }
        }

        unplaced.RemoveAll(reason => reasons.Values.Any(r => r.Contains(reason)));
        bool everyHostNamed = names.TrueForAll(reasons.ContainsKey);
        var parts = names.Concat(reasons.Keys.Except(names)).Select(h =>
            reasons.TryGetValue(h, out var r) ? $"{h} ({string.Join("; ", r)})"
            : unplaced.Count > 0 ? $"{h} ({string.Join("; ", unplaced)})"
            : $"{h} (no answer in time)").ToList();
        if (everyHostNamed && unplaced.Count > 0)
        {
            parts.Add("also: " + string.Join("; ", unplaced));
        }

        return "cannot connect to " + string.Join(", ", parts);
    }

    /// <summary>What went wrong with one connection attempt, in a few words.</summary>
    private static string Reason(Exception attempt) => attempt switch
    {
        PostgresException { SqlState: "28P01" or "28000" } p => $"authentication failed: {p.MessageText} (SQLSTATE {p.SqlState})",
        PostgresException p => $"{p.MessageText} (SQLSTATE {p.SqlState})",
        SocketException s => Reason(s),
        TimeoutException => "timed out",
        NpgsqlException { InnerException: SocketException s } => Reason(s),
        NpgsqlException { InnerException: TimeoutException } => "timed out",
        NpgsqlException { InnerException: IOException or EndOfStreamException } => "the server closed the connection",
        NpgsqlException { InnerException: { } inner } n when inner is not AggregateException => FirstLine(n.Message) + ": " + FirstLine(inner.Message),
        _ => FirstLine(attempt.Message),
    };

    private static string Reason(SocketException s) => s.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.TimedOut => "timed out",
        SocketError.HostUnreachable or SocketError.NetworkUnreachable => "no route to host",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host name not found",
        SocketError.ConnectionReset => "connection reset",
        SocketError.AccessDenied => "permission denied",
        _ => FirstLine(s.Message),
    };

    /// <summary>The <c>host:port</c> in Npgsql's "Failed to connect to host:port", or null.</summary>
    private static string? HostOf(Exception attempt) =>
        FailedToConnect().Match(attempt.Message) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>A refusal at connect time: authentication, an unknown database or role, too many connections.</summary>
    private static bool IsConnectRefusal(PostgresException p) =>
        p.SqlState is "28P01" or "28000" or "3D000" or "53300" or "57P03";

    private static bool IsConnectFailure(NpgsqlException n) => HostOf(n) is not null;

    private static string FirstLine(string text) => text.ReplaceLineEndings(" ").TrimEnd('.');

    [GeneratedRegex(@"^Failed to connect to (\S+?)\.?$")]
    private static partial Regex FailedToConnect();
}
