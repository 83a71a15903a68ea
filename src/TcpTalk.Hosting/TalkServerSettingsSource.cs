using Microsoft.Extensions.Configuration;

namespace TcpTalk.Hosting;

/// <summary>
/// Where the hosted server's settings come from, kept so that a reload can read them again: the configuration they
/// are bound from (null when made in code) and the delegate that fills them.
/// </summary>
internal sealed class TalkServerSettingsSource(IConfiguration? configuration, Action<TalkServerSettings> configure)
{
    /// <summary>The configuration the settings are bound from, or null when they are made in code.</summary>
    public IConfiguration? Configuration { get; } = configuration;

    /// <summary>The settings as the source says now (unvalidated).</summary>
    public TalkServerSettings Read()
    {
        var settings = new TalkServerSettings();
        configure(settings);
        return settings;
    }
}
