using System.Text;
using TcpTalk.Messages;
using TcpTalk.Protocol;
using TcpTalk.Server;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// The <c>Server</c> section (env <c>TCPTALK_SERVER__*</c>). Every property reads and writes one <see cref="TalkServerOptions"/>,
/// so the defaults are <see cref="TalkServerOptions"/>' own and exposing a new server setting is one line here. The
/// allowed ranges are checked by <see cref="TalkServerOptions.Validate"/>; what the docs say about each setting is on
/// <see cref="TalkServerOptions"/>.
/// </summary>
public sealed class ServerSettings
{
    private string? _encodingName;

    // Fields, not properties: the binding generator and the JSON serializer see public and internal properties only.
    private readonly TalkServerOptions _options = new();
    private MessageOutputFormat _output = MessageOutputFormat.Text;

    /// <summary><see cref="TalkServerOptions.Port"/>.</summary>
    public int Port { get => _options.Port; set => _options.Port = value; }

    /// <summary><see cref="TalkServerOptions.Listen"/>: <c>ADDR:PORT</c> each; empty means all interfaces on <see cref="Port"/>.</summary>
    public string[] Listen { get => [.. _options.Listen.Select(SettingText.FormatEndpoint)]; set => SettingText.ReplaceAll(_options.Listen, value, SettingText.TryParseEndpoint); }

    /// <summary><see cref="TalkServerOptions.Greeting"/>.</summary>
    public string Greeting { get => _options.Greeting; set => _options.Greeting = value; }

    /// <summary><see cref="TalkServerOptions.Framing"/>: <c>nul</c> or <c>line</c>.</summary>
    public string Framing { get => _options.Framing.ToName(); set => _options.Framing = SettingText.ParseFraming(value); }

    /// <summary><see cref="TalkServerOptions.Encoding"/> by name: <c>utf-8</c>, <c>gbk</c>, <c>cp1252</c>...</summary>
    public string Encoding { get => _encodingName ?? _options.Encoding.WebName; set => (_options.Encoding, _encodingName) = (ParseEncoding(value), value); }

    /// <summary><see cref="TalkServerOptions.MaxMessageBytes"/>.</summary>
    public int MaxMessageBytes { get => _options.MaxMessageBytes; set => _options.MaxMessageBytes = value; }

    /// <summary><see cref="TalkServerOptions.ShutdownTimeout"/>.</summary>
    public string ShutdownTimeout { get => SettingText.FormatDuration(_options.ShutdownTimeout); set => _options.ShutdownTimeout = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.ListenBacklog"/>.</summary>
    public int ListenBacklog { get => _options.ListenBacklog; set => _options.ListenBacklog = value; }

    /// <summary><see cref="TalkServerOptions.MaxConnections"/>.</summary>
    public int MaxConnections { get => _options.MaxConnections; set => _options.MaxConnections = value; }

    /// <summary><see cref="TalkServerOptions.MaxConnectionsPerAddress"/>.</summary>
    public int MaxConnectionsPerAddress { get => _options.MaxConnectionsPerAddress; set => _options.MaxConnectionsPerAddress = value; }

    /// <summary><see cref="TalkServerOptions.IdleTimeout"/>.</summary>
    public string IdleTimeout { get => SettingText.FormatDuration(_options.IdleTimeout); set => _options.IdleTimeout = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.MessageTimeout"/>.</summary>
    public string MessageTimeout { get => SettingText.FormatDuration(_options.MessageTimeout); set => _options.MessageTimeout = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.WriteTimeout"/>.</summary>
    public string WriteTimeout { get => SettingText.FormatDuration(_options.WriteTimeout); set => _options.WriteTimeout = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.KeepAliveTime"/>.</summary>
    public string KeepAliveTime { get => SettingText.FormatDuration(_options.KeepAliveTime); set => _options.KeepAliveTime = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.KeepAliveInterval"/>.</summary>
    public string KeepAliveInterval { get => SettingText.FormatDuration(_options.KeepAliveInterval); set => _options.KeepAliveInterval = SettingText.ParseDuration(value); }

    /// <summary><see cref="TalkServerOptions.KeepAliveCount"/>.</summary>
    public int KeepAliveCount { get => _options.KeepAliveCount; set => _options.KeepAliveCount = value; }

    /// <summary><see cref="TalkServerOptions.Allow"/>: CIDR networks.</summary>
    public string[] Allow { get => [.. _options.Allow.Select(n => n.ToString())]; set => SettingText.ReplaceAll(_options.Allow, value, TryParseNetwork); }

    /// <summary><see cref="TalkServerOptions.Deny"/>: CIDR networks.</summary>
    public string[] Deny { get => [.. _options.Deny.Select(n => n.ToString())]; set => SettingText.ReplaceAll(_options.Deny, value, TryParseNetwork); }

    /// <summary><see cref="TalkServerOptions.Acknowledge"/> (needs the journal).</summary>
    public bool Acknowledge { get => _options.Acknowledge; set => _options.Acknowledge = value; }

    /// <summary>Message output on stdout: <c>text</c> (one line each) or <c>json</c> (JSON Lines).</summary>
    public string Output
    {
        get => _output == MessageOutputFormat.Json ? "json" : "text";
        set => _output = value?.Trim().ToLowerInvariant() switch
        {
            "text" => MessageOutputFormat.Text,
            "json" => MessageOutputFormat.Json,
            _ => throw new SettingValueException($"must be text or json, not '{value}'"),
        };
    }

    /// <summary>The server's options these settings fill.</summary>
    internal TalkServerOptions ToOptions() => _options;

    /// <summary>How received messages are printed on stdout (the command's setting, not the server's).</summary>
    internal MessageOutputFormat ToOutputFormat() => _output;

    private static System.Text.Encoding ParseEncoding(string? name, [System.Runtime.CompilerServices.CallerMemberName] string property = "") =>
        MessageText.TryGetEncoding(name ?? "", out var encoding, out string? error) ? encoding : throw new SettingValueException($"'{name}': {error}", property);

    private static bool TryParseNetwork(string text, out System.Net.IPNetwork network, out string? error) =>
        NetworkText.TryParse(text, maskHostBits: false, out network, out error);
}
