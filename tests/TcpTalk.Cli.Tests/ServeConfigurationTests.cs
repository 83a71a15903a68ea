using TcpTalk.Cli;
using TcpTalk.Cli.Configuration;

namespace TcpTalk.Cli.Tests;

/// <summary>
/// <see cref="ServeConfiguration.Load"/> with its inputs given, never read from the process: the layers' order,
/// lists taken whole, and every error one line naming the setting, the problem and the source.
/// </summary>
public sealed class ServeConfigurationTests : IDisposable
{
    private static readonly Dictionary<string, string> Flags = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Server:Port"] = "--port", ["Server:MaxConnections"] = "--max-connections", ["Journal:Enabled"] = "--no-journal",
        ["Server:Acknowledge"] = "--ack", ["Tls:Certificate"] = "--tls-cert", ["Tls:Key"] = "--tls-key", ["Server:Allow"] = "--allow",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-config-unit-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void AFlagBeatsTheEnvironmentWhichBeatsTheFileAndEachValueKnowsItsSource()
    {
        string file = Write("""{ "Server": { "Port": 1111, "Greeting": "file", "MaxConnections": 5 } }""");
        var configuration = Load([file], new() { ["TCPTALK_SERVER__PORT"] = "2222", ["TCPTALK_SERVER__GREETING"] = "env" }, Flag("Server:Port", "--port", "3333"));

        var server = configuration.Settings.Server;
        Assert.Equal((3333, "env", 5), (server.Port, server.Greeting, server.MaxConnections));
        Assert.Equal("--port", configuration.SourceOf("Server:Port"));
        Assert.Equal("environment TCPTALK_SERVER__GREETING", configuration.SourceOf("server:greeting"));
        Assert.Equal(file, configuration.SourceOf("Server:MaxConnections"));
        Assert.Equal("default", configuration.SourceOf("Server:IdleTimeout"));
    }

    [Fact]
    public void OnlyTheGivenEnvironmentIsRead()
    {
        // The process's own environment may hold anything; Load sees only what it is given.
        var configuration = Load([], new() { ["TCPTALK_SERVER__PORT"] = "4444", ["OTHER_SERVER__PORT"] = "5555" });

        Assert.Equal(4444, configuration.Settings.Server.Port);
    }

    [Fact]
    public void AListComesWholeFromTheHighestLayerAndOneVariableIsSplitAtCommas()
    {
        string file = Write("""{ "Server": { "Allow": [ "10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12" ] } }""");

        var fromEnvironment = Load([file], new() { ["TCPTALK_SERVER__ALLOW"] = "127.0.0.0/8, ::1/128" });
        var fromFlags = Load([file], new() { ["TCPTALK_SERVER__ALLOW"] = "127.0.0.0/8" }, Flag("Server:Allow", "--allow", "10.1.0.0/16"));

        Assert.Equal(["127.0.0.0/8", "::1/128"], fromEnvironment.Settings.Server.Allow);
        Assert.Equal(["10.1.0.0/16"], fromFlags.Settings.Server.Allow);
    }

    [Theory]
    [InlineData("""{ "Server": { "Port": 70000 } }""", "", "Server:Port must be between 0 and 65535, not 70000 (from {file})")]
    [InlineData("{}", "TCPTALK_SERVER__MAXCONNECTIONS=lots", "Server:MaxConnections must be a whole number, not 'lots' (from environment TCPTALK_SERVER__MAXCONNECTIONS)")]
    [InlineData("""{ "Server": { "Output": "xml" } }""", "", "Server:Output must be text or json, not 'xml' (from {file})")]
    [InlineData("""{ "Logging": { "LogLevel": { "TcpTalk": "Loud" } } }""", "", "Logging:LogLevel:TcpTalk must be Trace, Debug, Information, Warning, Error, Critical or None, not 'Loud' (from {file})")]
    [InlineData("""{ "Server": { "Prot": 1 } }""", "", "Server:Prot is not a setting (the Server section has Port, Listen, ")]
    [InlineData("""{ "Tls": { "Key": "k.pem" } }""", "", "Tls:Key needs Tls:Certificate (the server's certificate) (from {file})")]
    [InlineData("""{ "Server": { "Acknowledge": true } }""", "TCPTALK_JOURNAL__ENABLED=false", "Server:Acknowledge needs the journal: acknowledgements carry the journal id of a stored message (drop Journal:Enabled=false from environment TCPTALK_JOURNAL__ENABLED) (from {file})")]
    [InlineData("""{ "Server": { "Port": 1 } ,, }""", "", "{file}: not valid JSON (line 1")]
    public void AValueThatCannotBeUsedIsOneUsageErrorNamingKeyProblemAndSource(string json, string environment, string expected)
    {
        string file = Write(json);
        var env = environment.Length == 0 ? [] : new Dictionary<string, string> { [environment.Split('=')[0]] = environment.Split('=', 2)[1] };

        var error = Assert.Throws<UserErrorException>(() => Load([file], env));
        Assert.Equal(ExitCode.Usage, error.Code);
        Assert.StartsWith(expected.Replace("{file}", file, StringComparison.Ordinal), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFlagIsNamedByItselfAndTheSettingsItPointsAtByTheirFlags()
    {
        var range = Assert.Throws<UserErrorException>(() => Load([], [], Flag("Server:MaxConnections", "--max-connections", "-1")));
        var ack = Assert.Throws<UserErrorException>(() => Load([], [], Flag("Server:Acknowledge", "--ack", "true"), Flag("Journal:Enabled", "--no-journal", "false")));
        var key = Assert.Throws<UserErrorException>(() => Load([], [], Flag("Tls:Key", "--tls-key", "k.pem")));

        Assert.Equal("--max-connections must be 0 (no limit) or more, not -1", range.Message);
        Assert.Equal("--ack needs the journal: acknowledgements carry the journal id of a stored message (drop --no-journal)", ack.Message);
        Assert.Equal("--tls-key needs --tls-cert (the server's certificate)", key.Message);
    }

    [Fact]
    public void ThePrintedConfigurationNamesEachSourceAndReadsBackAsTheSameSettings()
    {
        string file = Write("""{ "Server": { "Framing": "line", "Listen": [ "127.0.0.1:9000" ], "Output": "json" }, "Journal": { "Enabled": false } }""");
        var first = Load([file], [], Flag("Server:Port", "--port", "9001"));
        string printed = first.Describe();
        var second = Load([Write(printed, "copy.json")], []);

        Assert.Contains("\"Port\": 9001,  // --port", printed, StringComparison.Ordinal);
        Assert.Contains($"\"Framing\": \"line\",  // {file}", printed, StringComparison.Ordinal);
        Assert.Contains("\"IdleTimeout\": \"1m\",  // default", printed, StringComparison.Ordinal);
        Assert.Contains($"\"Output\": \"json\"  // {file}", printed, StringComparison.Ordinal);
        static string Values(string text) => string.Join('\n', text.Split('\n').Select(l => l.Split("  //")[0]));
        Assert.Equal(Values(printed), Values(second.Describe()));
    }

    [Fact]
    public void AMissingConfigFileIsAUsageErrorAndWithoutOneOnlyExistingFilesAreRead()
    {
        var error = Assert.Throws<UserErrorException>(() => ConfigurationInputs.FindFiles("nope.json", _dir, _dir));
        string here = Write("{}");

        Assert.Equal("--config nope.json: no such file", error.Message);
        Assert.Equal([here], ConfigurationInputs.FindFiles(null, Path.Combine(_dir, "no-such-dir"), _dir));
    }

    private static GivenFlag Flag(string key, string flag, params string[] values) => new(key, flag, values);

    private static ServeConfiguration Load(IReadOnlyList<string> files, Dictionary<string, string> environment, params GivenFlag[] flags) =>
        ServeConfiguration.Load(new ConfigurationInputs(files, environment, flags, Flags));

    private string Write(string json, string name = "appsettings.json")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, json);
        return path;
    }
}
