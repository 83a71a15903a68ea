using System.Text;
using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>serve's settings from appsettings.json, TCPTALK_* environment variables and flags (docs/DEPLOY.md).</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task FlagBeatsEnvironmentWhichBeatsTheFileAndPrintConfigNamesEachSource()
    {
        string file = Write("""{ "Server": { "Port": 1111, "Greeting": "from the file", "MaxConnections": 5, "Allow": [ "10.0.0.0/8", "192.168.0.0/16" ] } }""");
        var (code, stdout, stderr) = await RunAsync(["serve", "--config", file, "--port", "3333", "--print-config"],
            new() { ["TCPTALK_SERVER__PORT"] = "2222", ["TCPTALK_SERVER__GREETING"] = "from env", ["TCPTALK_SERVER__ALLOW"] = "127.0.0.0/8" });

        Assert.Equal(0, code);
        Assert.Empty(stderr);
        using var printed = Parse(stdout);
        var server = printed.RootElement.GetProperty("Server");
        Assert.Equal(3333, server.GetProperty("Port").GetInt32());
        Assert.Equal("from env", server.GetProperty("Greeting").GetString());
        Assert.Equal(5, server.GetProperty("MaxConnections").GetInt32());
        Assert.Equal(["127.0.0.0/8"], server.GetProperty("Allow").EnumerateArray().Select(e => e.GetString())); // a list is replaced whole
        Assert.Equal("1m", server.GetProperty("IdleTimeout").GetString());
        Assert.Contains(stdout, l => l.Contains("\"Port\": 3333,  // --port", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.Contains("\"Greeting\": \"from env\",  // environment TCPTALK_SERVER__GREETING", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.Contains($"\"MaxConnections\": 5,  // {file}", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.Contains("\"MessageTimeout\": \"30s\",  // default", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PrintConfigOutputIsItselfAConfigFileThatGivesTheSameSettings()
    {
        string file = Write("""{ "Server": { "Framing": "line", "Listen": [ "127.0.0.1:9000" ] }, "Journal": { "Enabled": false } }""");
        var (code, first, _) = await RunAsync(["serve", "--config", file, "--print-config", "--idle-timeout", "90s"]);
        Assert.Equal(0, code);
        string copy = Write(string.Join('\n', first), "copy.json");
        var (again, second, stderr) = await RunAsync(["serve", "--config", copy, "--print-config"]);

        Assert.Equal(0, again);
        Assert.Empty(stderr);
        static string Values(IEnumerable<string> lines) => string.Join('\n', lines.Select(l => l.Split("  //")[0]));
        Assert.Equal(Values(first), Values(second));
        Assert.Contains(second, l => l.Contains("\"IdleTimeout\": \"90s\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SettingsFromTheFileAndEnvironmentReachTheRunningServer()
    {
        int port = FreePort.Get();
        string file = Write($$"""{ "Server": { "Listen": [ "127.0.0.1:{{port}}" ], "Greeting": "Hi {address}" }, "Journal": { "Enabled": false } }""");
        await using var server = await Tcptalk.ListeningAsync(Tcptalk.Start(["serve", "--config", file],
            environment: new Dictionary<string, string> { ["TCPTALK_SERVER__FRAMING"] = "line" }));
        using var client = await RawClient.ConnectAsync(server.Loopback);

        Assert.Equal(port, server.Port);
        Assert.Equal("Hi 127.0.0.1", Encoding.ASCII.GetString(await client.ReadFrameAsync((byte)'\n')));
        await client.SendAsync("one\r\ntwo\n"u8.ToArray());
        client.HalfClose();
        await client.ReadToEndAsync();
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(["one", "two"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task AppsettingsJsonInTheWorkingDirectoryIsReadWithoutConfig()
    {
        string file = Write("""{ "Server": { "Greeting": "from the working directory" }, "Other": { "Tool": "ignored" } }""");
        await using var process = Tcptalk.Start(["serve", "--print-config"], stdin: "", workingDirectory: _dir);
        Assert.Equal(0, await process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(process.Stdout, l => l.Contains($"\"Greeting\": \"from the working directory\",  // {file}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MissingConfigFileIsAUsageError()
    {
        string missing = Path.Combine(_dir, "nope.json");
        var (code, stdout, stderr) = await RunAsync(["serve", "--config", missing]);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: --config {missing}: no such file"], stderr);
    }

    [Theory]
    [InlineData("""{ "Server": { "Port": 70000 } }""", "", "", "Server:Port must be between 0 and 65535, not 70000 (from {file})")]
    [InlineData("{}", "TCPTALK_SERVER__MAXCONNECTIONS=lots", "", "Server:MaxConnections must be a whole number, not 'lots' (from environment TCPTALK_SERVER__MAXCONNECTIONS)")]
    [InlineData("""{ "Server": { "Framing": "crlf" } }""", "", "", "Server:Framing must be nul, line, octet, u16be or u32be, not 'crlf' (from {file})")]
    [InlineData("""{ "Server": { "Prot": 1 } }""", "", "", "Server:Prot is not a setting (the Server section has Port, Listen, ")]
    [InlineData("""{ "Journal": { "Enabled": "maybe" } }""", "", "", "Journal:Enabled must be true or false, not 'maybe' (from {file})")]
    [InlineData("{}", "TCPTALK_SERVER__IDLETIMEOUT=soon", "", "Server:IdleTimeout must be a duration (5s, 250ms, 2m), not 'soon' (from environment TCPTALK_SERVER__IDLETIMEOUT)")]
    [InlineData("""{ "Logging": { "LogLevel": { "Default": "Loud" } } }""", "", "", "Logging:LogLevel:Default must be Trace, Debug, Information, Warning, Error, Critical or None, not 'Loud' (from {file})")]
    [InlineData("{}", "", "--max-connections -1", "--max-connections must be 0 (no limit) or more, not -1")]
    [InlineData("""{ "Server": { "Port": 1 } ,, }""", "", "", "{file}: not valid JSON (line 1")]
    public async Task InvalidValueIsOneLineNamingTheSettingTheRangeAndTheSource(string json, string environment, string flags, string expected)
    {
        string file = Write(json);
        var env = environment.Length == 0 ? [] : new Dictionary<string, string> { [environment.Split('=')[0]] = environment.Split('=', 2)[1] };
        var (code, stdout, stderr) = await RunAsync(["serve", "--config", file, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)], env);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        string line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: " + expected.Replace("{file}", file, StringComparison.Ordinal), line, StringComparison.Ordinal);
    }

    private string Write(string json, string name = "appsettings.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }

    private static JsonDocument Parse(IEnumerable<string> lines) =>
        JsonDocument.Parse(string.Join('\n', lines), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });

    private static async Task<(int Code, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> RunAsync(string[] arguments, Dictionary<string, string>? environment = null)
    {
        await using var process = Tcptalk.Start(arguments, stdin: "", environment);
        int code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, process.Stdout, process.Stderr);
    }
}
