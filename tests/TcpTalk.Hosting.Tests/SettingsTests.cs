using Microsoft.Extensions.Configuration;
using TcpTalk.Server;

namespace TcpTalk.Hosting.Tests;

/// <summary>Binding and checking <see cref="TalkServerSettings"/>: every problem is a key and a sentence, never an exception from the binder.</summary>
public sealed class SettingsTests
{
    [Fact]
    public void ValuesAreBoundIntoTheServerOptionsWithDurationsInTheOneGrammar()
    {
        var settings = TalkServerSettings.Bind(Configuration(("Server:Port", "9000"), ("Server:IdleTimeout", "90s"), ("Server:Framing", "LINE"),
            ("Server:Allow:0", "10.0.0.0/8"), ("Journal:Path", "x.db"), ("Tls:HandshakeTimeout", "00:00:03")));

        Assert.Empty(settings.FindProblems());
        var options = settings.Server.ToOptions();
        Assert.Equal(9000, options.Port);
        Assert.Equal(TimeSpan.FromSeconds(90), options.IdleTimeout);
        Assert.Equal(TcpTalk.Protocol.FramingMode.Line, options.Framing);
        Assert.Equal("10.0.0.0/8", Assert.Single(options.Allow).ToString());
        Assert.Equal("x.db", settings.Journal.Path);
        Assert.Equal("3s", settings.Tls.HandshakeTimeout);
        Assert.Equal("90s", settings.Server.IdleTimeout);
    }

    [Theory]
    [InlineData("Server:Port", "70000", "Server:Port must be between 0 and 65535, not 70000")]
    [InlineData("Server:MaxConnections", "lots", "Server:MaxConnections must be a whole number, not 'lots'")]
    [InlineData("Server:Framing", "crlf", "Server:Framing must be nul, line, octet, u16be or u32be, not 'crlf'")]
    [InlineData("Server:IdleTimeout", "soon", "Server:IdleTimeout must be a duration (5s, 250ms, 2m), not 'soon'")]
    [InlineData("Server:ShutdownTimeout", "7200", "Server:ShutdownTimeout must be between 0 and 1 hour, not 7200")]
    [InlineData("Server:KeepAliveTime", "500ms", "Server:KeepAliveTime must be 0 (off) or at least 1 second, not 500ms")]
    [InlineData("Server:Allow:0", "10.1.2.3/8", "Server:Allow '10.1.2.3/8': bits are set after the /8 prefix (did you mean 10.0.0.0/8?)")]
    [InlineData("Server:UnixSocketMode", "999", "Server:UnixSocketMode must be an octal file mode from 0 to 777 (660: owner and group), not '999'")]
    [InlineData("Server:Listen:0", "unix:", "Server:Listen 'unix:': give the socket's path after unix:, e.g. unix:/run/tcptalk.sock")]
    [InlineData("Server:TrustedProxies:0", "10.0.0.1/24", "Server:TrustedProxies '10.0.0.1/24': bits are set after the /24 prefix")]
    [InlineData("Server:ProxyHeaderTimeout", "0", "Server:ProxyHeaderTimeout must be more than 0 and at most 1 hour, not 0")]
    [InlineData("Journal:Enabled", "maybe", "Journal:Enabled must be true or false, not 'maybe'")]
    [InlineData("Server:Prot", "1", "Server:Prot is not a setting (the Server section has Port, Listen, UnixSocketMode, Greeting, ")]
    [InlineData("Tls:Key", "server.key", "Tls:Key needs Tls:Certificate (the server's certificate)")]
    [InlineData("Journal:MaxBytes", "lots", "Journal:MaxBytes must be a byte count (500MB, 2GiB, 1048576), not 'lots'")]
    [InlineData("Journal:MaxBytes", "1000kB", "Journal:MaxBytes must be at least 1MiB (or 0 to keep everything), not 1000kB")]
    [InlineData("Journal:MaxAge", "soon", "Journal:MaxAge must be an age (30d, 12h, 90m, 2w), not 'soon'")]
    [InlineData("Journal:MaxAge", "500ms", "Journal:MaxAge must be at least 1s (or 0 to keep everything), not 500ms")]
    public void AValueThatCannotBeUsedIsOneProblemNamingItsKey(string key, string value, string expected)
    {
        var settings = TalkServerSettings.Bind(Configuration((key, value)));

        var problem = Assert.Single(settings.FindProblems());
        Assert.StartsWith(expected, problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TrustedProxiesAndTheirHeaderTimeoutAreBoundIntoTheServerOptions()
    {
        var settings = TalkServerSettings.Bind(Configuration(("Server:TrustedProxies:0", "10.0.0.0/24"), ("Server:TrustedProxies:1", "::1/128"),
            ("Server:ProxyHeaderTimeout", "2s")));

        Assert.Empty(settings.FindProblems());
        var options = settings.Server.ToOptions();
        Assert.Equal(["10.0.0.0/24", "::1/128"], options.TrustedProxies.Select(n => n.ToString()));
        Assert.Equal(TimeSpan.FromSeconds(2), options.ProxyHeaderTimeout);
        Assert.Equal("5s", new TalkServerSettings().Server.ProxyHeaderTimeout);
    }

    [Fact]
    public void AcknowledgementsWithoutTheJournalPointAtTheSettingToDrop()
    {
        var settings = TalkServerSettings.Bind(Configuration(("Server:Acknowledge", "true"), ("Journal:Enabled", "false")));

        var problem = Assert.Single(settings.FindProblems(new SettingKeyNames("TcpTalk")));
        Assert.Equal("Server:Acknowledge", problem.Key);
        Assert.Equal("needs the journal: acknowledgements carry the journal id of a stored message (drop TcpTalk:Journal:Enabled=false)", problem.Problem);
    }

    [Fact]
    public void OtherSectionsAndTheApplicationsOwnKeysAreLeftAlone()
    {
        var settings = TalkServerSettings.Bind(Configuration(("Other:Tool", "x"), ("Server:Output", "json"), ("Logging:LogLevel:Default", "Debug")),
            applicationKeys: ["Server:Output"]);

        Assert.Empty(settings.FindProblems());
    }

    [Fact]
    public void OptionsReportFactsAndTheLibrarysExceptionIsBuiltFromTheFirst()
    {
        var options = new TalkServerOptions { Port = 70000, IdleTimeout = TimeSpan.FromDays(2) };

        var problems = options.FindProblems();
        Assert.Equal(["Port", "IdleTimeout"], problems.Select(p => p.Property));
        Assert.Equal(70000, problems[0].Value);
        Assert.True(problems[0].IsOutOfRange);
        Assert.Equal("must be between 0 and 65535", problems[0].Requirement);
        Assert.Equal("IdleTimeout is 48h; it must be between 0 (no limit) and 1 day", problems[1].Message);
        Assert.Equal("Port is 70000; it must be between 0 and 65535", Assert.Throws<ArgumentException>(options.Validate).Message);
    }

    [Theory]
    [InlineData("2GiB", 2L << 30, "2GiB")]
    [InlineData("500 MB", 500_000_000L, "500MB")]
    [InlineData("1048576", 1L << 20, "1MiB")]
    public void JournalMaxBytesTakesDecimalAndBinaryUnits(string text, long bytes, string shown)
    {
        var settings = TalkServerSettings.Bind(Configuration(("Journal:MaxBytes", text)));

        Assert.Empty(settings.FindProblems());
        Assert.Equal(bytes, settings.Journal.GetMaxBytes());
        Assert.Equal(shown, settings.Journal.MaxBytes);
    }

    [Theory]
    [InlineData("30d", 30 * 24 * 3600, "30d")]
    [InlineData("2w", 14 * 24 * 3600, "14d")]
    [InlineData("90m", 90 * 60, "90m")]
    [InlineData("48h", 48 * 3600, "2d")]
    public void JournalMaxAgeTakesDaysAndWeeksBeyondTheTimeoutGrammar(string text, int seconds, string shown)
    {
        var settings = TalkServerSettings.Bind(Configuration(("Journal:MaxAge", text)));

        Assert.Empty(settings.FindProblems());
        Assert.Equal(TimeSpan.FromSeconds(seconds), settings.Journal.GetMaxAge());
        Assert.Equal(shown, settings.Journal.MaxAge);
    }

    [Fact]
    public void JournalRetentionDefaultsToKeepingEverythingAndZeroMeansTheSame()
    {
        Assert.Null(new JournalSettings().GetMaxBytes());
        Assert.Null(new JournalSettings().GetMaxAge());
        var zero = TalkServerSettings.Bind(Configuration(("Journal:MaxBytes", "0"), ("Journal:MaxAge", "0")));
        Assert.Empty(zero.FindProblems());
        Assert.Null(zero.Journal.GetMaxBytes());
        Assert.Null(zero.Journal.GetMaxAge());
    }

    [Fact]
    public void JournalRetentionOnAPostgresJournalIsAProblemNamingTheKey()
    {
        var settings = TalkServerSettings.Bind(Configuration(("Journal:Path", "postgres://tcptalk@127.0.0.1/tcptalk"), ("Journal:MaxAge", "7d")));

        var problem = Assert.Single(settings.FindProblems());
        Assert.StartsWith("Journal:MaxAge applies to a SQLite journal only", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheKeysAreThePropertiesOfTheSettings()
    {
        Assert.Contains("Server:MaxConnectionsPerAddress", TalkSettingKeys.All);
        Assert.Contains("Tls:HandshakeTimeout", TalkSettingKeys.All);
        Assert.Contains("Journal:MaxBytes", TalkSettingKeys.All);
        Assert.Contains("Journal:MaxAge", TalkSettingKeys.All);
        Assert.True(TalkSettingKeys.IsList("server:allow"));
        Assert.Equal("Server:Listen", TalkSettingKeys.ListOf("SERVER:LISTEN:3"));
        Assert.Null(TalkSettingKeys.ListOf("Server:Port"));
        Assert.Equal("Journal:Path", TalkSettingKeys.Canonical("journal:path"));
    }

    internal static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
