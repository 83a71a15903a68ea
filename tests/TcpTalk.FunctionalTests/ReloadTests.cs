using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// Changing a running <c>serve</c>: its <c>--config</c> file edited (in place, or replaced by a rename as editors and
/// deploy tools do), or SIGHUP (<c>systemctl reload</c>). New clients see the new settings; a client already connected
/// goes on as before; a configuration that cannot be used is refused with one line naming the key.
/// </summary>
public sealed class ReloadTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-reload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string ConfigFile => Path.Combine(_dir, "tcptalk.json");

    /// <summary>Replaces the file as editors and deploy tools do: a new file renamed over the old one.</summary>
    private void Replace(string json)
    {
        string next = ConfigFile + ".new";
        File.WriteAllText(next, json);
        File.Move(next, ConfigFile, overwrite: true);
    }

    private async Task<ServeProcess> ServeAsync(string json, params string[] more)
    {
        File.WriteAllText(ConfigFile, json);
        return await Tcptalk.ServeAsync(["--config", ConfigFile, .. more]);
    }

    private static async Task<string> GreetingAsync(ServeProcess server)
    {
        using var client = await RawClient.ConnectAsync(server.Loopback);
        return Encoding.UTF8.GetString(await client.ReadFrameAsync());
    }

    /// <summary>The <paramref name="occurrence"/>th line of serve's log that contains <paramref name="text"/>; bounded (20 s).</summary>
    internal static async Task<string> LogAsync(ServeProcess server, string text, int occurrence = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var stderr = server.Process.Stderr;
            if (stderr.Where(l => l.Contains(text, StringComparison.Ordinal)).Skip(occurrence - 1).FirstOrDefault() is { } line)
            {
                return line;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"serve never logged '{text}' ({occurrence}); stderr: [{string.Join(" | ", stderr)}]");
            }

            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ChangedConfigFileGivesNewClientsTheNewGreetingAndDenyWhileAnOpenClientGoesOn()
    {
        await using var server = await ServeAsync("""{ "Server": { "Greeting": "Hello {address}" } }""");
        using var open = await RawClient.ConnectAsync(server.Loopback);
        Assert.Equal("Hello 127.0.0.1", Encoding.UTF8.GetString(await open.ReadFrameAsync()));

        Replace("""{ "Server": { "Greeting": "Reloaded {address}" } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Server:Greeting)");
        Assert.Equal("Reloaded 127.0.0.1", await GreetingAsync(server));
        await open.SendAsync("still-here\0"u8.ToArray());
        await server.Process.WaitForLineAsync(l => l.EndsWith(" still-here", StringComparison.Ordinal));

        // Written in place this time: loopback denied, so a new client is closed before any greeting.
        File.WriteAllText(ConfigFile, """{ "Server": { "Greeting": "Reloaded {address}", "Deny": [ "127.0.0.0/8" ] } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Server:Deny)");
        using (var refused = await RawClient.ConnectAsync(server.Loopback))
        {
            Assert.Empty(await refused.ReadToEndAsync());
        }

        await open.SendAsync("after-deny\0"u8.ToArray()); // accepted before the deny: not disturbed
        await server.Process.WaitForLineAsync(l => l.EndsWith(" after-deny", StringComparison.Ordinal));
        open.HalfClose();
        Assert.Empty(await open.ReadToEndAsync());
        Assert.Equal(0, await server.StopAsync());
        Assert.Contains(server.Process.Stderr, l => l.Contains("Refused a connection from 127.0.0.1:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SighupReloadsTheConfigFileAndLeavesTheServerRunning()
    {
        await using var server = await ServeAsync("""{ "Server": { "MaxMessageBytes": 100 } }""");
        server.Process.Signal("HUP");
        await LogAsync(server, "Configuration reloaded (0 changes)");

        File.WriteAllText(ConfigFile, """{ "Server": { "MaxMessageBytes": 5 } }""");
        server.Process.Signal("HUP"); // at once: before the file watcher's quiet period ends
        string reloading = await LogAsync(server, "Reloading the configuration (SIGHUP)", occurrence: 2);
        string reloaded = await LogAsync(server, "Configuration reloaded (1 changes: Server:MaxMessageBytes)");
        var stderr = server.Process.Stderr.ToList();
        Assert.Equal(stderr.IndexOf(reloading) + 1, stderr.IndexOf(reloaded));

        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();
        await client.SendAsync("longer than five\0"u8.ToArray());
        Assert.StartsWith("error: message longer than 5 bytes", Encoding.UTF8.GetString(await client.ReadFrameAsync()), StringComparison.Ordinal);
        Assert.False(server.Process.HasExited);
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task InvalidConfigIsRefusedWithOneLineNamingTheKeyAndTheOldSettingsStayInForce()
    {
        await using var server = await ServeAsync("""{ "Server": { "Greeting": "Old {address}" } }""");

        Replace("""{ "Server": { "Greeting": "New {address}", "MaxConnections": -1 } }""");
        string refused = await LogAsync(server, "Configuration not reloaded:");
        Assert.EndsWith($"Configuration not reloaded: Server:MaxConnections must be 0 (no limit) or more, not -1 (from {ConfigFile}); the settings in force stay", refused);
        Assert.Equal("Old 127.0.0.1", await GreetingAsync(server));

        Replace("""{ "Server": { "Greeting": "New {address}" """);
        string broken = await LogAsync(server, "Configuration not reloaded:", occurrence: 2);
        Assert.Contains($"Configuration not reloaded: {ConfigFile}: not valid JSON", broken, StringComparison.Ordinal);
        Assert.Equal("Old 127.0.0.1", await GreetingAsync(server));

        Replace("""{ "Server": { "Greeting": "New {address}" } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Server:Greeting)");
        Assert.Equal("New 127.0.0.1", await GreetingAsync(server));
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task SettingsThatCannotChangeWhileServingSayARestartIsNeededAndKeepTheirOldValue()
    {
        await using var server = await ServeAsync("""{ "Server": { "Framing": "nul", "Greeting": "One" } }""");

        Replace("""{ "Server": { "Framing": "line", "Greeting": "Two" } }""");
        string restart = await LogAsync(server, "cannot change while serving");
        Assert.EndsWith("Configuration: Server:Framing cannot change while serving; restart the server to apply (the old value stays in force)", restart);
        await LogAsync(server, "Configuration reloaded (1 changes: Server:Greeting)");
        Assert.Equal("Two", await GreetingAsync(server)); // still NUL-framed
        Assert.Equal(0, await server.StopAsync());
    }

    // Once flaky: the "reloaded" line came before the logger filters had followed, so the connection right after it
    // could still be filtered at the old level (HostedReloadTests.TheLogLevelsAreInForceWhenTheReloadIsLogged).
    [Fact]
    public async Task TheLogLevelFollowsTheReloadedFile()
    {
        await using var server = await ServeAsync("""{ "Logging": { "LogLevel": { "Default": "Information" } } }""");
        await GreetingAsync(server);
        Assert.DoesNotContain(server.Process.Stderr, l => l.Contains("dbug:", StringComparison.Ordinal));

        Replace("""{ "Logging": { "LogLevel": { "Default": "Debug" } } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Logging:LogLevel:Default)");
        await GreetingAsync(server);
        await LogAsync(server, "dbug: TcpTalk.Server[10] Connection 2 opened");
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task AnAppSettingsFileCreatedAfterTheStartIsReadWithoutASignal()
    {
        // No --config: serve reads appsettings.json in its working directory where it exists, and watches for one.
        await using var server = await Tcptalk.ListeningAsync(Tcptalk.Start(["serve", "--listen", "127.0.0.1:0", "--no-journal"], workingDirectory: _dir));
        Assert.StartsWith("Welcome ", await GreetingAsync(server), StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(_dir, "appsettings.json"), """{ "Server": { "Greeting": "Created {address}" } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Server:Greeting)");
        Assert.Equal("Created 127.0.0.1", await GreetingAsync(server));
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task AFlagStillWinsOverTheReloadedFile()
    {
        await using var server = await ServeAsync("""{ "Server": { "Greeting": "File" } }""", "--greeting", "Flag");

        Replace("""{ "Server": { "Greeting": "File again", "IdleTimeout": "5m" } }""");
        await LogAsync(server, "Configuration reloaded (1 changes: Server:IdleTimeout)");
        Assert.Equal("Flag", await GreetingAsync(server));
        Assert.Equal(0, await server.StopAsync());
    }
}
