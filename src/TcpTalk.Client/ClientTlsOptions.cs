using System.Security.Cryptography.X509Certificates;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// TLS for a <see cref="TalkClient"/> (<see cref="TalkClientOptions.Tls"/>): after connecting, the client does the TLS
/// handshake, then reads the greeting over it. The server is trusted in exactly one of these ways: the system's
/// trusted CAs (the default), <see cref="CertificateAuthorities"/>, a <see cref="PinnedSha256"/> fingerprint, or
/// nothing at all (<see cref="Insecure"/>). The OS chooses the protocol versions.
/// </summary>
public sealed class ClientTlsOptions
{
    /// <summary>
    /// The name the server's certificate must carry (and the SNI sent). Default null: the host given to
    /// <see cref="TalkClient.ConnectAsync"/>; an IP address there is matched against the certificate's IP addresses.
    /// </summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// Trust only certificates issued by these CAs (custom root trust: the system store is not consulted, revocation is
    /// not checked); the name must still match. Default empty: the system's trusted CAs. Load a PEM file with
    /// <see cref="X509Certificate2Collection.ImportFromPemFile"/>.
    /// </summary>
    public X509Certificate2Collection CertificateAuthorities { get; } = [];

    /// <summary>
    /// Trust exactly the server certificate with this SHA-256 fingerprint (hex, colons optional, as
    /// <c>tcptalk serve</c> prints it), whoever issued it and whatever names it carries: pinning replaces CA trust, so
    /// a self-signed certificate works. Default null: no pin.
    /// </summary>
    public string? PinnedSha256 { get; set; }

    /// <summary>
    /// The client's certificate, with its private key, for servers that require one (mutual TLS). It is sent only
    /// when the server asks. Default null: none.
    /// </summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Skip every check of the server's certificate: the connection is encrypted, but anyone who can intercept it can
    /// pose as the server. For tests only. Default false.
    /// </summary>
    public bool Insecure { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is wrong.</summary>
    public void Validate()
    {
        int trusts = (CertificateAuthorities.Count > 0 ? 1 : 0) + (PinnedSha256 is not null ? 1 : 0) + (Insecure ? 1 : 0);
        if (trusts > 1)
        {
            throw new ArgumentException("Tls: give at most one of CertificateAuthorities, PinnedSha256 and Insecure");
        }

        if (PinnedSha256 is not null && !CertificateFingerprint.TryParse(PinnedSha256, out _))
        {
            throw new ArgumentException($"Tls.PinnedSha256 '{PinnedSha256}' is not a SHA-256 fingerprint (64 hex digits, colons optional)");
        }

        if (ClientCertificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"Tls.ClientCertificate ({ClientCertificate.Subject}) has no private key");
        }

        if (TargetHost is { Length: 0 })
        {
            throw new ArgumentException("Tls.TargetHost is empty; leave it null to use the host connected to");
        }
    }
}
