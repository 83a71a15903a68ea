using TcpTalk.Protocol;
using TcpTalk.Server;

namespace TcpTalk.Hosting;

/// <summary>
/// The <c>Tls</c> section: certificate files, read when the server starts (<see cref="LoadOptions"/>); paths are
/// relative to the working directory. No certificate means plain TCP.
/// </summary>
public sealed class TlsSettings
{
    private static readonly ServerTlsOptions Defaults = new();
    private readonly SettingValues _values = new("Tls");
    private TimeSpan _handshakeTimeout = Defaults.HandshakeTimeout;

    /// <summary>Serve TLS with this certificate: PEM (key in <see cref="Key"/> or the same file) or PKCS#12 without a password. Default none: plain TCP.</summary>
    public string? Certificate { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary>The PEM private key of <see cref="Certificate"/>.</summary>
    public string? Key { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary>Mutual TLS: require a client certificate issued by this CA (PEM).</summary>
    public string? ClientCa { get; set => field = string.IsNullOrEmpty(value) ? null : value; }

    /// <summary><see cref="ServerTlsOptions.HandshakeTimeout"/>.</summary>
    public string HandshakeTimeout { get => DurationText.Format(_handshakeTimeout); set => _values.Parse<TimeSpan>(value, SettingText.TryParseDuration, t => _handshakeTimeout = t); }

    /// <summary>The values that could not be parsed, and how each text was given.</summary>
    internal SettingValues GetValues() => _values;

    /// <summary>The parsed <see cref="HandshakeTimeout"/>.</summary>
    internal TimeSpan GetHandshakeTimeout() => _handshakeTimeout;

    /// <summary>
    /// Reads the certificate files into TLS options for the server, or null without <see cref="Certificate"/>. The
    /// caller owns the certificates (<see cref="ServerTlsOptions.Certificate"/> and the collections): dispose them
    /// after the server.
    /// </summary>
    /// <param name="names">How the sentences of a failure name the settings; default: by their keys.</param>
    /// <exception cref="TalkSettingsException">A file is missing, unreadable or not a usable certificate or key.</exception>
    public ServerTlsOptions? LoadOptions(ISettingNames? names = null)
    {
        if (Certificate is null)
        {
            return null;
        }

        var files = new CertificateFiles(names ?? SettingKeyNames.Root);
        var tls = new ServerTlsOptions
        {
            Certificate = files.LoadWithKey(Certificate, Key),
            HandshakeTimeout = _handshakeTimeout,
        };
        try
        {
            tls.IntermediateCertificates.AddRange(CertificateFiles.LoadIntermediates(Certificate, tls.Certificate));
            if (ClientCa is not null)
            {
                tls.ClientCertificateAuthorities.AddRange(files.LoadCertificates(ClientCa));
            }
        }
        catch
        {
            DisposeCertificates(tls);
            throw;
        }

        return tls;
    }

    /// <summary>Disposes every certificate of <paramref name="tls"/> (what <see cref="LoadOptions"/> loaded).</summary>
    public static void DisposeCertificates(ServerTlsOptions? tls)
    {
        if (tls is null)
        {
            return;
        }

        tls.Certificate?.Dispose();
        foreach (var certificate in tls.IntermediateCertificates.Concat(tls.ClientCertificateAuthorities))
        {
            certificate.Dispose();
        }
    }
}
