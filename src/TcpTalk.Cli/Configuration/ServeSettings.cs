using System.Text.Json.Serialization;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// Every setting of <c>tcptalk serve</c>, one section per concern. Filled by <see cref="ServeConfiguration"/> from
/// (lowest to highest) these defaults, appsettings.json, <c>TCPTALK_*</c> environment variables and flags; bound
/// by the configuration binding source generator (no reflection, so NativeAOT stays warning-free).
/// </summary>
public sealed class ServeSettings
{
    /// <summary>The listener, limits and timeouts: <see cref="ServerSettings"/>.</summary>
    public ServerSettings Server { get; set; } = new();

    /// <summary>The message journal.</summary>
    public JournalSettings Journal { get; set; } = new();

    /// <summary>TLS certificate files.</summary>
    public TlsSettings Tls { get; set; } = new();

    /// <summary>
    /// Log levels by category, as .NET spells them (<c>Logging:LogLevel:Default</c>): Trace, Debug, Information,
    /// Warning, Error, Critical, None. Default Information; <c>-v</c> sets Debug (connection lifecycle).
    /// </summary>
    public LoggingSettings Logging { get; set; } = new();
}

/// <summary>The <c>Logging</c> section.</summary>
public sealed class LoggingSettings
{
    /// <summary>Minimum level per category prefix; <c>Default</c> for all others.</summary>
    public Dictionary<string, string> LogLevel { get; set; } = new(StringComparer.OrdinalIgnoreCase) { ["Default"] = "Information" };
}

/// <summary>Serializes <see cref="ServeSettings"/> (for <c>--print-config</c> and the list of known keys) without reflection.</summary>
[JsonSerializable(typeof(ServeSettings))]
[JsonSourceGenerationOptions(WriteIndented = false)]
internal sealed partial class ServeSettingsJson : JsonSerializerContext;
