using System.CommandLine;
using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>The client's TLS flags (<c>--tls</c>, <c>--tls-ca</c>, <c>--tls-pin</c>, <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-insecure</c>), spelled and checked the same in every verb that connects.</summary>
internal sealed class ClientTlsFlags
{
    public Option<bool> Tls { get; } = new("--tls")
    {
        Description = "Talk TLS (to serve --tls-cert); trusts the system's CAs unless --tls-ca, --tls-pin or --tls-insecure says otherwise",
    };

    public Option<string> Ca { get; } = new("--tls-ca")
    {
        Description = "With --tls: trust only servers whose certificate this CA issued (PEM), e.g. the ca.pem of 'tcptalk cert create'",
        HelpName = "file",
    };

    public Option<string> Pin { get; } = new("--tls-pin")
    {
        Description = "With --tls: trust exactly the server certificate with this SHA-256 fingerprint (as serve prints it; colons optional)",
        HelpName = "sha256",
    };

    public Option<string> Certificate { get; } = new("--tls-cert")
    {
        Description = "With --tls: the client certificate for servers that require one (serve --tls-client-ca): PEM or PKCS#12",
        HelpName = "file",
    };

    public Option<string> Key { get; } = new("--tls-key")
    {
        Description = "The PEM private key of --tls-cert",
        HelpName = "file",
    };

    public Option<bool> Insecure { get; } = new("--tls-insecure")
    {
        Description = "With --tls: do not check the server's certificate at all (encrypted, but anyone in the path can pose as the server)",
    };

    public void AddTo(Command command)
    {
        command.Add(Tls);
        command.Add(Ca);
        command.Add(Pin);
        command.Add(Certificate);
        command.Add(Key);
        command.Add(Insecure);
    }

    /// <summary>The TLS options the flags ask for; null without <c>--tls</c>. A flag that makes no sense is a usage error.</summary>
    public ClientTlsOptions? Load(ParseResult result)
    {
        string? ca = result.GetValue(Ca), pin = result.GetValue(Pin), certificate = result.GetValue(Certificate), key = result.GetValue(Key);
        bool insecure = result.GetValue(Insecure);
        if (!result.GetValue(Tls))
        {
            string? stray = ca is not null ? "--tls-ca" : pin is not null ? "--tls-pin" : certificate is not null ? "--tls-cert"
                : key is not null ? "--tls-key" : insecure ? "--tls-insecure" : null;
            return stray is null ? null : throw new UserErrorException(ExitCode.Usage, $"{stray} needs --tls");
        }

        if ((ca is not null ? 1 : 0) + (pin is not null ? 1 : 0) + (insecure ? 1 : 0) > 1)
        {
            throw new UserErrorException(ExitCode.Usage, "give at most one of --tls-ca, --tls-pin and --tls-insecure (each is a whole way of trusting the server)");
        }

        if (pin is not null && !CertificateFingerprint.TryParse(pin, out _))
        {
            throw new UserErrorException(ExitCode.Usage, $"--tls-pin '{pin}' is not a SHA-256 fingerprint (64 hex digits, colons optional)");
        }

        if (key is not null && certificate is null)
        {
            throw new UserErrorException(ExitCode.Usage, "--tls-key needs --tls-cert (the client certificate it belongs to)");
        }

        var options = new ClientTlsOptions
        {
            PinnedSha256 = pin,
            Insecure = insecure,
            ClientCertificate = certificate is null ? null : TlsFiles.LoadWithKey(certificate, key, "--tls-cert", "--tls-key"),
        };
        if (ca is not null)
        {
            options.CertificateAuthorities.AddRange(TlsFiles.LoadCertificates(ca, "--tls-ca"));
        }

        return options;
    }

    /// <summary>The warning <c>--tls-insecure</c> prints on stderr before connecting.</summary>
    public const string InsecureWarning = "tcptalk: warning: --tls-insecure skips certificate validation: the connection is encrypted, but anyone in the path can pose as the server";
}
