using Npgsql;

namespace TcpTalk.Journal.Postgres.Tests;

public sealed class PostgresJournalUriTests
{
    [Fact]
    public void FullUriMapsEveryPartOntoNpgsqlSettings()
    {
        var uri = PostgresJournalUri.Parse("postgres://ingest:s%40cret@db1:5433,10.0.0.2,[2001:db8::5]:6000/messages?schema=edge_1&sslmode=require&target_session_attrs=read-write&connect_timeout=7&application_name=tcptalk");

        Assert.Equal("ingest", uri.User);
        Assert.Equal("s@cret", uri.Password);
        Assert.Equal([new PostgresHost("db1", 5433), new PostgresHost("10.0.0.2", 5432), new PostgresHost("2001:db8::5", 6000)], uri.Hosts);
        Assert.Equal("messages", uri.Database);
        Assert.Equal("edge_1", uri.Schema);
        var b = uri.ToConnectionStringBuilder();
        Assert.Equal("db1:5433,10.0.0.2:5432,[2001:db8::5]:6000", b.Host);
        Assert.Equal("ingest", b.Username);
        Assert.Equal("s@cret", b.Password);
        Assert.Equal("messages", b.Database);
        Assert.Equal(SslMode.Require, b.SslMode);
        Assert.Equal("read-write", b.TargetSessionAttributes);
        Assert.Equal(7, b.Timeout);
        Assert.Equal("tcptalk", b.ApplicationName);
        Assert.Equal(1, b.HostRecheckSeconds);
    }

    [Fact]
    public void MinimalUriLeavesPasswordAndDatabaseToNpgsqlAndUsesTheDefaultSchema()
    {
        var uri = PostgresJournalUri.Parse("postgresql://db");

        Assert.Null(uri.User);
        Assert.Null(uri.Password); // Npgsql then takes PGPASSWORD, PGPASSFILE or ~/.pgpass
        Assert.Null(uri.Database);
        Assert.Equal(PostgresJournalUri.DefaultSchema, uri.Schema);
        Assert.Null(uri.ToConnectionStringBuilder().Password);
        Assert.Equal("db:5432", uri.ToConnectionStringBuilder().Host);
    }

    [Fact]
    public void PercentEncodedSocketFolderIsAHost()
    {
        var uri = PostgresJournalUri.Parse("postgres://me@%2Fvar%2Frun%2Fpostgresql/db");

        Assert.Equal(new PostgresHost("/var/run/postgresql", 5432), Assert.Single(uri.Hosts));
    }

    [Fact]
    public void ToStringNeverShowsThePassword()
    {
        var uri = PostgresJournalUri.Parse("postgres://u:topsecret@h1,h2:5433/d");

        Assert.Equal("postgres://u@h1:5432,h2:5433/d?schema=tcptalk", uri.ToString());
        Assert.DoesNotContain("topsecret", uri.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mysql://u@h/d", "must start with postgres:// or postgresql://")]
    [InlineData("/var/lib/tcptalk.db", "must start with postgres://")]
    [InlineData("postgres:///d", "names no host")]
    [InlineData("postgres://u@h:99999/d", "the port of host 1 ('99999') is not a number from 1 to 65535")]
    [InlineData("postgres://u@h1,h2:x/d", "the port of host 2 ('x')")]
    [InlineData("postgres://u@h1,,h3/d", "host 2 is empty")]
    [InlineData("postgres://u@[::1/d", "host 1 ('[::1') opens '['")]
    [InlineData("postgres://:pw@h/d", "the user name before '@' is empty")]
    [InlineData("postgres://u@h/d?sslmode=maybe", "sslmode 'maybe' is not one of")]
    [InlineData("postgres://u@h/d?target_session_attrs=primaryy", "target_session_attrs 'primaryy'")]
    [InlineData("postgres://u@h/d?schema=bad-name", "schema 'bad-name' must be")]
    [InlineData("postgres://u@h/d?shema=x", "parameter 'shema' is unknown")]
    [InlineData("postgres://u@h/d?schema", "parameter 'schema' is not NAME=VALUE")]
    [InlineData("postgres://u@h/d?schema=a&schema=b", "parameter 'schema' is given twice")]
    [InlineData("postgres://u@h/d?connect_timeout=-1", "connect_timeout '-1' is not a whole number")]
    public void BadUriIsOneSentenceNamingThePart(string text, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PostgresJournalUri.Parse(text));

        Assert.StartsWith("PostgreSQL URI: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres://h/d", true)]
    [InlineData("POSTGRESQL://h/d", true)]
    [InlineData("tcptalk.db", false)]
    [InlineData("postgres.db", false)]
    [InlineData(null, false)]
    public void IsPostgresUriTellsAUriFromAPath(string? text, bool expected) =>
        Assert.Equal(expected, PostgresJournalUri.IsPostgresUri(text));
}
