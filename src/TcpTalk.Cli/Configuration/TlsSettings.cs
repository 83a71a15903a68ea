using TcpTalk.Server;

namespace TcpTalk.Cli.Configuration;

/// <summary>The <c>Tls</c> section (env <c>TCPTALK_TLS__*</c>): files are read at start, paths relative to the working directory.</summary>
public sealed class TlsSettings
{
    private static readonly ServerTlsOptions Defaults = new();

    /// <summary>Serve TLS with this certificate: PEM (key in <see cref="Key"/> or the same file) or PKCS#12 without a password. Default none: plain TCP.</summary>
    public string? Certificate { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary>The PEM private key of <see cref="Certificate"/>.</summary>
    public string? Key { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary>Mutual TLS: require a client certificate issued by this CA (PEM).</summary>
    public string? ClientCa { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary><see cref="ServerTlsOptions.HandshakeTimeout"/>.</summary>
    public string HandshakeTimeout { get => SettingText.FormatDuration(_handshakeTimeout); set => _handshakeTimeout = SettingText.ParseDuration(value); }

    private TimeSpan _handshakeTimeout = Defaults.HandshakeTimeout;

    /// <summary>The parsed <see cref="HandshakeTimeout"/>.</summary>
    internal TimeSpan ToHandshakeTimeout() => _handshakeTimeout;
}
