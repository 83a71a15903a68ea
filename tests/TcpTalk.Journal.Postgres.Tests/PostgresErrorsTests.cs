using System.Net.Sockets;
using Npgsql;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>
/// The sentence an unreachable database gets, from the exceptions Npgsql's multi-host source throws (shapes as
/// Npgsql 10 builds them: "Unable to connect to a suitable host" over an AggregateException of the attempts).
/// </summary>
public sealed class PostgresErrorsTests
{
    private static readonly PostgresHost[] s_hosts = [new("db1", 5432), new("db2", 5433)];

    [Fact]
    public void EveryRefusedHostIsNamedOnceInTheListsOrder()
    {
        var error = Unreachable(Failed("db2:5433", Refused()), Failed("db1:5432", Refused()), Failed("db2:5433", Refused()));

        Assert.Equal("cannot connect to db1:5432 (connection refused), db2:5433 (connection refused)", PostgresErrors.Describe(error, s_hosts));
    }

    [Fact]
    public void AnAttemptWithoutItsHostGivesItsReasonToTheHostsNoAttemptNamed()
    {
        // A server that accepts TCP and never answers: Npgsql says "Exception while reading from stream", no host.
        var error = Unreachable(new NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")),
            Failed("db2:5433", Refused()));

        Assert.Equal("cannot connect to db1:5432 (timed out), db2:5433 (connection refused)", PostgresErrors.Describe(error, s_hosts));
    }

    [Fact]
    public void AReasonAlreadyShownIsNotRepeatedAndAHostNeverTriedSaysSo()
    {
        var error = Unreachable(Failed("db1:5432", new TimeoutException("Timeout during connection attempt")),
            new NpgsqlException("Exception while reading from stream", new TimeoutException("Timeout during reading attempt")));

        Assert.Equal("cannot connect to db1:5432 (timed out), db2:5433 (no answer in time)", PostgresErrors.Describe(error, s_hosts));
    }

    [Fact]
    public void OtherSocketErrorsAreNamedInWords()
    {
        var error = Unreachable(Failed("db1:5432", new SocketException((int)SocketError.HostUnreachable)),
            Failed("db2:5433", new SocketException((int)SocketError.HostNotFound)));

        Assert.Equal("cannot connect to db1:5432 (no route to host), db2:5433 (host name not found)", PostgresErrors.Describe(error, s_hosts));
    }

    [Fact]
    public void ALostConnectionIsStillDescribedAsLost()
    {
        var error = new NpgsqlException("Exception while reading from stream", new EndOfStreamException("Attempted to read past the end of the stream."));

        Assert.Equal("connection to the database lost: Attempted to read past the end of the stream.", PostgresErrors.Describe(error, s_hosts));
    }

    private static SocketException Refused() => new((int)SocketError.ConnectionRefused);

    private static NpgsqlException Failed(string host, Exception inner) => new($"Failed to connect to {host}", inner);

    private static NpgsqlException Unreachable(params Exception[] attempts) =>
        new("Unable to connect to a suitable host. Check inner exception for more details.", new AggregateException(attempts));
}
