using TcpTalk.Protocol;
using TcpTalk.Server;

namespace TcpTalk.Hosting;

/// <summary>
/// The <c>Server</c> section (<c>TcpTalk:Server:Port</c>...). Every property reads and writes one
/// <see cref="TalkServerOptions"/>, so the defaults are <see cref="TalkServerOptions"/>' own and exposing a new server
/// setting is one line here; what the docs say about each setting is on <see cref="TalkServerOptions"/>. Text that
/// cannot be parsed is not thrown at the binder: it is kept as a problem for <see cref="TalkServerSettings.FindProblems"/>,
/// and the property keeps its previous value.
/// </summary>
public sealed class ServerSettings
{
    // Fields, not properties: the binding generator and the JSON serializer see public and internal properties only.
    private readonly TalkServerOptions _options = new();
    private readonly SettingValues _values = new("Server");
    private string? _encodingName;

    /// <summary><see cref="TalkServerOptions.Port"/>.</summary>
    public int Port { get => _options.Port; set => _options.Port = value; }

    /// <summary><see cref="TalkServerOptions.Listen"/>: <c>ADDR:PORT</c> or <c>unix:/path</c> each; empty means all interfaces on <see cref="Port"/>.</summary>
    public string[] Listen { get => [.. _options.Listen.Select(SettingText.FormatListenEndpoint)]; set => _values.ReplaceAll(_options.Listen, value, SettingText.TryParseListenEndpoint); }

    /// <summary><see cref="TalkServerOptions.UnixSocketMode"/>: octal, as chmod takes it (<c>660</c>).</summary>
    public string UnixSocketMode { get => SettingText.FormatFileMode(_options.UnixSocketMode); set => _values.Parse<UnixFileMode>(value, SettingText.TryParseFileMode, m => _options.UnixSocketMode = m); }

    /// <summary><see cref="TalkServerOptions.Greeting"/>.</summary>
    public string Greeting { get => _options.Greeting; set => _options.Greeting = value; }

    /// <summary><see cref="TalkServerOptions.Framing"/>: <c>nul</c> or <c>line</c>.</summary>
    public string Framing { get => _options.Framing.ToName(); set => _values.Parse<FramingMode>(value, SettingText.TryParseFraming, mode => _options.Framing = mode); }

    /// <summary><see cref="TalkServerOptions.Encoding"/> by name: <c>utf-8</c>, <c>gbk</c>, <c>cp1252</c>...</summary>
    public string Encoding
    {
        get => _encodingName ?? _options.Encoding.WebName;
        set => _values.Parse<System.Text.Encoding>(value, SettingText.TryParseEncoding, encoding => (_options.Encoding, _encodingName) = (encoding, value));
    }

    /// <summary><see cref="TalkServerOptions.MaxMessageBytes"/>.</summary>
    public int MaxMessageBytes { get => _options.MaxMessageBytes; set => _options.MaxMessageBytes = value; }

    /// <summary><see cref="TalkServerOptions.ShutdownTimeout"/>.</summary>
    public string ShutdownTimeout { get => DurationText.Format(_options.ShutdownTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.ShutdownTimeout = t); }

    /// <summary><see cref="TalkServerOptions.ListenBacklog"/>.</summary>
    public int ListenBacklog { get => _options.ListenBacklog; set => _options.ListenBacklog = value; }

    /// <summary><see cref="TalkServerOptions.MaxConnections"/>.</summary>
    public int MaxConnections { get => _options.MaxConnections; set => _options.MaxConnections = value; }

    /// <summary><see cref="TalkServerOptions.MaxConnectionsPerAddress"/>.</summary>
    public int MaxConnectionsPerAddress { get => _options.MaxConnectionsPerAddress; set => _options.MaxConnectionsPerAddress = value; }

    /// <summary><see cref="TalkServerOptions.IdleTimeout"/>.</summary>
    public string IdleTimeout { get => DurationText.Format(_options.IdleTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.IdleTimeout = t); }

    /// <summary><see cref="TalkServerOptions.MessageTimeout"/>.</summary>
    public string MessageTimeout { get => DurationText.Format(_options.MessageTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.MessageTimeout = t); }

    /// <summary><see cref="TalkServerOptions.WriteTimeout"/>.</summary>
    public string WriteTimeout { get => DurationText.Format(_options.WriteTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.WriteTimeout = t); }

    /// <summary><see cref="TalkServerOptions.KeepAliveTime"/>.</summary>
    public string KeepAliveTime { get => DurationText.Format(_options.KeepAliveTime); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.KeepAliveTime = t); }

    /// <summary><see cref="TalkServerOptions.KeepAliveInterval"/>.</summary>
    public string KeepAliveInterval { get => DurationText.Format(_options.KeepAliveInterval); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.KeepAliveInterval = t); }

    /// <summary><see cref="TalkServerOptions.KeepAliveCount"/>.</summary>
    public int KeepAliveCount { get => _options.KeepAliveCount; set => _options.KeepAliveCount = value; }

    /// <summary><see cref="TalkServerOptions.Allow"/>: CIDR networks.</summary>
    public string[] Allow { get => [.. _options.Allow.Select(n => n.ToString())]; set => _values.ReplaceAll(_options.Allow, value, SettingText.TryParseNetwork); }

    /// <summary><see cref="TalkServerOptions.Deny"/>: CIDR networks.</summary>
    public string[] Deny { get => [.. _options.Deny.Select(n => n.ToString())]; set => _values.ReplaceAll(_options.Deny, value, SettingText.TryParseNetwork); }

    /// <summary><see cref="TalkServerOptions.TrustedProxies"/>: CIDR networks of balancers that send a PROXY protocol header.</summary>
    public string[] TrustedProxies { get => [.. _options.TrustedProxies.Select(n => n.ToString())]; set => _values.ReplaceAll(_options.TrustedProxies, value, SettingText.TryParseNetwork); }

    /// <summary><see cref="TalkServerOptions.ProxyHeaderTimeout"/>.</summary>
    public string ProxyHeaderTimeout { get => DurationText.Format(_options.ProxyHeaderTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _options.ProxyHeaderTimeout = t); }

    /// <summary><see cref="TalkServerOptions.Acknowledge"/> (needs the journal).</summary>
    public bool Acknowledge { get => _options.Acknowledge; set => _options.Acknowledge = value; }

    /// <summary>
    /// The server's options these settings fill (the same instance each time; the journal, TLS and meter factory are
    /// set by <see cref="TalkServerService"/> at start).
    /// </summary>
    public TalkServerOptions ToOptions() => _options;

    /// <summary>The values that could not be parsed, and how each text was given.</summary>
    internal SettingValues GetValues() => _values;
}
