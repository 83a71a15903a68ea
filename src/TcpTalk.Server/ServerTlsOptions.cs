using System.Security.Cryptography.X509Certificates;

namespace TcpTalk.Server;

/// <summary>
/// TLS for every connection of a <see cref="TalkServer"/> (<see cref="TalkServerOptions.Tls"/>): the handshake comes
/// first, then the same exchange as over plain TCP, encrypted. The OS chooses the protocol versions (TLS 1.2 and 1.3
/// where it offers them).
/// </summary>
public sealed class ServerTlsOptions
{
    /// <summary>
    /// The server's certificate, with its private key. Required. The server does not own it: dispose it after the
    /// server. (On Windows, a key loaded from PEM must first be re-imported through PKCS#12; <c>tcptalk</c> does so.)
    /// </summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// Intermediate CA certificates sent with <see cref="Certificate"/>, so that clients which trust only the root can
    /// build the chain (what a <c>fullchain.pem</c> holds after the first certificate). Default empty.
    /// </summary>
    public X509Certificate2Collection IntermediateCertificates { get; } = [];

    /// <summary>
    /// Mutual TLS: when not empty, every client must present a certificate that chains to one of these CA
    /// certificates (checked with a chain that trusts only them, not the system store; revocation is not checked) and
    /// is valid for client authentication. A client without one, or with another, is refused during the handshake and
    /// logged at Warning. Default empty: no client certificate is asked for.
    /// </summary>
    public X509Certificate2Collection ClientCertificateAuthorities { get; } = [];

    /// <summary>
    /// Longest time a new connection may take to complete the TLS handshake, counted from accept. Default 10 s: a real
    /// client needs a few round trips (milliseconds); a client that connects and stays silent, or dribbles its
    /// handshake, holds a connection slot and is cut off. <see cref="TimeSpan.Zero"/> means no limit (then only
    /// <see cref="TalkServerOptions.IdleTimeout"/> bounds it). Range 0 to 1 day.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is missing or out of range (see <see cref="FindProblems"/>).</summary>
    public void Validate()
    {
        var problems = FindProblems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(problems[0].Message);
        }
    }

    /// <summary>
    /// Every setting that is missing or out of range, as facts; the properties are named as seen from
    /// <see cref="TalkServerOptions"/> (<c>Tls.HandshakeTimeout</c>). Empty when <see cref="Validate"/> would pass.
    /// </summary>
    public IReadOnlyList<OptionProblem> FindProblems()
    {
        var problems = new List<OptionProblem>();
        if (Certificate is null)
        {
            problems.Add(OptionProblem.Unmet("Tls.Certificate", "is missing: a TLS server needs a certificate with its private key"));
        }
        else if (!Certificate.HasPrivateKey)
        {
            problems.Add(OptionProblem.Unmet("Tls.Certificate", $"({Certificate.Subject}) has no private key"));
        }

        if (HandshakeTimeout < TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromDays(1))
        {
            problems.Add(OptionProblem.OutOfRange("Tls.HandshakeTimeout", HandshakeTimeout, "must be between 0 (no limit) and 1 day"));
        }

        return problems;
    }
}
