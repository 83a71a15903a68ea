namespace TcpTalk.Hosting.Tests;

/// <summary>What differs between two settings, and which keys a running server cannot take.</summary>
public sealed class SettingChangesTests
{
    [Fact]
    public void BetweenListsTheChangedKeysInKeyOrder()
    {
        var before = new TalkServerSettings();
        var after = new TalkServerSettings();
        after.Server.Deny = ["10.0.0.0/8"];
        after.Server.Greeting = "Hi";
        after.Tls.Certificate = "new.pem";
        after.Journal.Path = "other.db";

        Assert.Equal(["Server:Greeting", "Server:Deny", "Journal:Path", "Tls:Certificate"], SettingChanges.Between(before, after));
        Assert.Empty(SettingChanges.Between(before, new TalkServerSettings()));
    }

    [Theory]
    [InlineData("Server:Port", true)]
    [InlineData("Server:Listen", true)]
    [InlineData("Server:Framing", true)]
    [InlineData("Server:UnixSocketMode", true)]
    [InlineData("Server:ProxyHeaderTimeout", false)]
    [InlineData("Server:KeepAliveTime", true)]
    [InlineData("Journal:Path", true)]
    [InlineData("Admin:Listen", true)]
    [InlineData("Server:Greeting", false)]
    [InlineData("Server:Allow", false)]
    [InlineData("Server:MaxConnections", false)]
    [InlineData("Server:MaxMessageBytes", false)]
    [InlineData("Server:IdleTimeout", false)]
    [InlineData("Tls:Certificate", false)]
    [InlineData("Server:TrustedProxies", false)] // a key added later is live unless listed
    public void NeedsRestartOnlyForWhatTheListenersAndTheJournalWereOpenedWith(string key, bool restart) =>
        Assert.Equal(restart, SettingChanges.NeedsRestart(key));

    [Fact]
    public void TheServerKeysNeedingARestartAreThoseOfTheServersRestartOnlyOptionsAndEveryJournalAndAdminKeyDoes()
    {
        Assert.Equal(
            ["Server:Port", "Server:Listen", "Server:UnixSocketMode", "Server:Framing", "Server:ListenBacklog", "Server:KeepAliveTime",
             "Server:KeepAliveInterval", "Server:KeepAliveCount", "Server:Acknowledge"],
            TalkSettingKeys.All.Where(k => k.StartsWith("Server:", StringComparison.Ordinal)).Where(SettingChanges.NeedsRestart));
        Assert.All(TalkSettingKeys.All.Where(k => !k.StartsWith("Server:", StringComparison.Ordinal)),
            key => Assert.Equal(!key.StartsWith("Tls:", StringComparison.Ordinal), SettingChanges.NeedsRestart(key)));
    }

    [Fact]
    public void AdminListenIsAKeyOfItsOwnSectionAndABadEndpointIsAProblemNamingIt()
    {
        Assert.Contains("Admin:Listen", TalkSettingKeys.All);
        var settings = new TalkServerSettings();
        settings.Admin.Listen = "localhost:nine";
        var problem = Assert.Single(settings.FindProblems());
        Assert.Equal("Admin:Listen", problem.Key);
        settings = new TalkServerSettings();
        settings.Admin.Listen = "127.0.0.1:9464";
        Assert.Empty(settings.FindProblems());
        Assert.Equal("127.0.0.1:9464", settings.Admin.Listen);
    }
}
