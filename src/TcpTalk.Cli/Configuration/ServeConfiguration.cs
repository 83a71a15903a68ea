using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using TcpTalk.Hosting;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// The settings of <c>tcptalk serve</c>, from its layers, lowest to highest: the built-in defaults, appsettings.json
/// (beside the executable, then in the working directory; or only <c>--config FILE</c>), environment variables
/// (<c>TCPTALK_</c> prefix, <c>__</c> between section and key) and the flags given on the command line
/// (<see cref="ConfigurationLayers"/>). The server's settings are TcpTalk.Hosting's (<see cref="TalkServerSettings"/>);
/// the tool adds <c>Server:Output</c> and <c>Logging</c>. Every value that cannot be used is one
/// <see cref="UserErrorException"/> line naming the setting (by its flag when it came from one), what it must be and
/// where the value came from.
/// </summary>
internal sealed class ServeConfiguration : ISettingNames
{
    /// <summary>The prefix of the environment variables read (<c>TCPTALK_SERVER__PORT</c> is <c>Server:Port</c>).</summary>
    public const string EnvironmentPrefix = "TCPTALK_";

    /// <summary>The file name looked for beside the executable and in the working directory.</summary>
    public const string FileName = "appsettings.json";

    /// <summary>The key of the tool's own stdout format, in the Server section beside the server's settings.</summary>
    public const string OutputKey = "Server:Output";

    private const string LogLevelPrefix = "Logging:LogLevel:";

    private readonly Dictionary<string, SettingEntry> _effective;
    private readonly IReadOnlyDictionary<string, string> _flagNames;

    private ServeConfiguration(Dictionary<string, SettingEntry> effective, IReadOnlyDictionary<string, string> flagNames)
    {
        _effective = effective;
        _flagNames = flagNames;
        Settings = new TalkServerSettings();
    }

    /// <summary>The server's settings, all usable (except what needs the certificate files, read at start).</summary>
    public TalkServerSettings Settings { get; private set; }

    /// <summary>How received messages are printed on stdout (<c>Server:Output</c>, the tool's setting, not the server's).</summary>
    public MessageOutputFormat Output { get; private set; } = MessageOutputFormat.Text;

    /// <summary><c>Logging:LogLevel</c>: category (or <c>Default</c>) and level, in the order given, <c>Default</c> first.</summary>
    public IReadOnlyDictionary<string, LogLevel> LogLevels { get; private set; } = new Dictionary<string, LogLevel>();

    /// <summary>
    /// Reads every layer of <paramref name="inputs"/> and binds; reads nothing else (the caller gathers the files and
    /// the environment).
    /// </summary>
    /// <exception cref="UserErrorException">A file is not JSON, or a value cannot be used (<see cref="ExitCode.Usage"/>).</exception>
    public static ServeConfiguration Load(ConfigurationInputs inputs)
    {
        var configuration = new ServeConfiguration(ConfigurationLayers.Merge(inputs), inputs.FlagNames) { Inputs = inputs };
        configuration.Bind();
        return configuration;
    }

    /// <summary>What was read: a reload reads the same files, environment and flags again (<see cref="ServeConfigurationProvider"/>).</summary>
    public ConfigurationInputs Inputs { get; private init; } = new([], new Dictionary<string, string>(), [], new Dictionary<string, string>());

    /// <summary>
    /// Every merged value but the tool's stdout format (read once, at start): the server's sections, which
    /// <c>AddTalkServer</c> binds, and <c>Logging</c>, which the logger filters read.
    /// </summary>
    public IEnumerable<KeyValuePair<string, string?>> HostValues() => _effective
        .Where(p => !p.Key.Equals(OutputKey, StringComparison.OrdinalIgnoreCase))
        .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.Value));

    /// <summary>Where a setting's value came from: <c>default</c>, the file, the environment variable or the flag.</summary>
    public string SourceOf(string key) => TryGet(key, out var entry) ? entry.Source : "default";

    /// <summary>How to name a setting to the user: its flag when the value came from one, else its key.</summary>
    public string Name(string key)
    {
        if (TryGet(key, out var entry))
        {
            return entry.FromFlag ? entry.Source : Canonical(key);
        }

        // Not set: named as the user is setting its neighbours (a --tls-cert that needs --tls-key, a file's Tls:Key).
        string section = key.Split(':')[0] + ":";
        bool sectionByFlags = _effective.Any(p => p.Value.FromFlag && p.Key.StartsWith(section, StringComparison.OrdinalIgnoreCase));
        return sectionByFlags && _flagNames.TryGetValue(key, out string? flag) ? flag : Canonical(key);
    }

    /// <summary>How to point at a setting's value: its flag, or <c>Journal:Enabled=false from FILE</c>.</summary>
    public string NameWithValue(string key, string value) =>
        FromFlag(key) ? Name(key) : $"{Canonical(key)}={value}{(IsSet(key) ? " from " + SourceOf(key) : "")}";

    /// <summary>Whether <paramref name="key"/>'s value was given as a flag.</summary>
    public bool FromFlag(string key) => TryGet(key, out var entry) && entry.FromFlag;

    /// <summary>Whether any layer above the defaults sets <paramref name="key"/>.</summary>
    public bool IsSet(string key) => TryGet(key, out _);

    /// <summary>A usage error about <paramref name="key"/>: <c>Server:Port must be ..., not 70000 (from FILE)</c>, or with the flag's name.</summary>
    public UserErrorException Error(string key, string problem)
    {
        string message = !TryGet(key, out var entry) ? $"{Canonical(key)} {problem}"
            : entry.FromFlag ? $"{entry.Source} {problem}"
            : $"{Canonical(key)} {problem} (from {entry.Source})";
        return new UserErrorException(ExitCode.Usage, message);
    }

    /// <summary>The effective configuration as JSON (usable as an appsettings.json), each value's source in a comment.</summary>
    public string Describe() => ConfigurationPrinter.Print(this);

    private bool TryGet(string key, out SettingEntry entry) => _effective.TryGetValue(key, out entry) || _effective.TryGetValue(key + ":0", out entry);

    private void Bind()
    {
        var levels = new Dictionary<string, LogLevel>(StringComparer.OrdinalIgnoreCase) { ["Default"] = LogLevel.Information };
        foreach (var (key, entry) in _effective)
        {
            if (key.StartsWith(LogLevelPrefix, StringComparison.OrdinalIgnoreCase))
            {
                levels[key[LogLevelPrefix.Length..]] = ParseLevel(entry.Value)
                    ?? throw Error(key, $"must be Trace, Debug, Information, Warning, Error, Critical or None, not '{entry.Value}'");
            }
        }

        LogLevels = levels;
        if (_effective.TryGetValue(OutputKey, out var output))
        {
            Output = output.Value.Trim().ToLowerInvariant() switch
            {
                "text" => MessageOutputFormat.Text,
                "json" => MessageOutputFormat.Json,
                _ => throw Error(OutputKey, $"must be text or json, not '{output.Value}'"),
            };
        }

        var values = new ConfigurationBuilder().AddInMemoryCollection(_effective.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.Value))).Build();
        Settings = TalkServerSettings.Bind(values, applicationKeys: [OutputKey]);
        if (Settings.FindProblems(this) is [var problem, ..])
        {
            throw Error(problem.Key, problem.Problem);
        }

        // A handshake timeout alone is harmless in a file (--print-config writes one); as a flag it is a mistake.
        if (Settings.Tls.Certificate is null && FromFlag("Tls:HandshakeTimeout"))
        {
            throw Error("Tls:HandshakeTimeout", $"needs {_flagNames.GetValueOrDefault("Tls:Certificate", "Tls:Certificate")} (the server's certificate)");
        }
    }

    private static string Canonical(string key) =>
        key.Equals(OutputKey, StringComparison.OrdinalIgnoreCase) ? OutputKey
        : key.StartsWith(LogLevelPrefix, StringComparison.OrdinalIgnoreCase) ? LogLevelPrefix + key[LogLevelPrefix.Length..]
        : TalkSettingKeys.Canonical(key);

    private static LogLevel? ParseLevel(string? text) =>
        Enum.TryParse<LogLevel>(text, ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(text, out _) ? level : null;
}
