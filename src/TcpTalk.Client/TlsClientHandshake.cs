using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// The client's side of the TLS handshake: checks the server's certificate the one way <see cref="ClientTlsOptions"/>
/// says, offers the client certificate only when the server asks, and turns every failure into a
/// <see cref="TlsHandshakeException"/> whose one sentence says what was wrong.
/// </summary>
/// <remarks>
/// With TLS 1.3 the client finishes its handshake before the server has checked the client's certificate; a server
/// that refuses it then closes (or sends an alert) where the greeting should be. That is why
/// <see cref="ServerAskedForCertificate"/> outlives the handshake: <see cref="TalkClient"/> asks
/// <see cref="RefusedAfterHandshake"/> when the greeting does not come.
/// </remarks>
internal sealed class TlsClientHandshake(ClientTlsOptions options, string host, string target)
{
    private const byte FirstTlsRecordType = 20, LastTlsRecordType = 23, AlertRecordType = 21;

    private readonly byte[]? _pin = options.PinnedSha256 is { } pin && CertificateFingerprint.TryParse(pin, out byte[] bytes) ? bytes : null;
    private readonly string _name = options.TargetHost ?? host;
    private string? _untrusted;

    /// <summary>Whether the server asked for a client certificate (mutual TLS).</summary>
    public bool ServerAskedForCertificate { get; private set; }

    /// <summary>Authenticates <paramref name="ssl"/> as the client, within <paramref name="timeout"/>.</summary>
    /// <exception cref="TlsHandshakeException">The handshake failed or timed out; the message says why.</exception>
    public async Task AuthenticateAsync(SslStream ssl, FirstBytesStream received, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = _name,
            RemoteCertificateValidationCallback = ValidateServerCertificate,
            LocalCertificateSelectionCallback = SelectClientCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        };
        if (options.ClientCertificate is { } certificate)
        {
            authentication.ClientCertificates = [certificate];
        }

        if (options.CertificateAuthorities.Count > 0)
        {
            var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            policy.CustomTrustStore.AddRange(options.CertificateAuthorities);
            authentication.CertificateChainPolicy = policy;
        }

        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        try
        {
            await ssl.AuthenticateAsClientAsync(authentication, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TlsHandshakeException($"TLS handshake with {target} did not complete within {DurationText.Format(timeout)}") { Transient = true };
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            // The connection broke before the server said anything (killed mid-handshake): a later attempt may succeed.
            throw new TlsHandshakeException(Describe(e, received.FirstBytes), e) { Transient = e is not AuthenticationException && received.FirstBytes.IsEmpty };
        }
    }

    /// <summary>
    /// The exception for a server that closed, reset or sent an alert where the greeting should be, when that is
    /// mutual TLS refusing this client; null when the server never asked for a certificate.
    /// </summary>
    public TlsHandshakeException? RefusedAfterHandshake(Exception? innerException = null) =>
        ServerAskedForCertificate ? new TlsHandshakeException(ClientCertificateRefused(), innerException) : null;

    private X509Certificate SelectClientCertificate(object sender, string targetHost, X509CertificateCollection localCertificates,
        X509Certificate? remoteCertificate, string[] acceptableIssuers)
    {
        // The first call comes before the server said anything: offer nothing yet. The server asking is the second
        // call, with its certificate known; only then is ours sent, and the request remembered for error messages.
        if (remoteCertificate is null)
        {
            return null!;
        }

        ServerAskedForCertificate = true;
        return options.ClientCertificate!;
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (options.Insecure)
        {
            return true;
        }

        if (certificate is null)
        {
            _untrusted = $"{target} sent no certificate";
            return false;
        }

        if (_pin is not null)
        {
            // A pin is the whole of the trust: issuer and names do not matter, the exact certificate does.
            byte[] actual = CertificateFingerprint.Sha256(certificate);
            if (actual.AsSpan().SequenceEqual(_pin))
            {
                return true;
            }

            _untrusted = $"the certificate of {target} has SHA-256 fingerprint {CertificateFingerprint.Format(actual)}, not the pinned {CertificateFingerprint.Format(_pin)}";
            return false;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            _untrusted = $"the certificate of {target} ({certificate.Subject}) is not trusted: {ChainProblem(certificate, chain)}";
            return false;
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            _untrusted = $"the certificate of {target} is for {Names(certificate)}, not '{_name}'";
            return false;
        }

        if (errors != SslPolicyErrors.None)
        {
            _untrusted = $"the certificate of {target} was not accepted ({errors})";
            return false;
        }

        return true;
    }

    private string Describe(Exception exception, ReadOnlySpan<byte> received)
    {
        if (_untrusted is not null)
        {
            return _untrusted;
        }

        if (received.IsEmpty)
        {
            if (ServerAskedForCertificate)
            {
                return ClientCertificateRefused();
            }

            // Closed or reset: a server refusing before the handshake (a TcpTalk server over a limit) does either,
            // depending on whether the ClientHello had arrived when it closed.
            return $"{target} closed the connection during the TLS handshake without a word (busy, not allowed, or not a TLS server)";
        }

        if (received[0] is < FirstTlsRecordType or > LastTlsRecordType)
        {
            string start = MessageText.DecodeEscaped(received, MessageText.Utf8);
            return $"{target} is not a TLS server: it answered the TLS handshake with \"{start}\"";
        }

        if (ServerAskedForCertificate)
        {
            return ClientCertificateRefused();
        }

        return received[0] == AlertRecordType
            ? $"{target} refused the TLS handshake with an alert (no TLS version or cipher in common?)"
            : $"TLS handshake with {target} failed ({exception.GetType().Name}: {exception.Message})";
    }

    private string ClientCertificateRefused() => options.ClientCertificate is { } certificate
        ? $"{target} did not accept the client certificate {CertificateFingerprint.Describe(certificate)} (is it issued by a CA the server trusts?)"
        : $"{target} requires a client certificate (mutual TLS) and none was given";

    private static string ChainProblem(X509Certificate certificate, X509Chain? chain)
    {
        var flags = chain?.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (all, status) => all | status.Status) ?? X509ChainStatusFlags.NoError;
        if ((flags & (X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested)) != 0 && certificate is X509Certificate2 two)
        {
            return $"it is valid only from {two.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm} to {two.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm} UTC";
        }

        if ((flags & X509ChainStatusFlags.NotValidForUsage) != 0)
        {
            return "it is not valid for server authentication";
        }

        if ((flags & X509ChainStatusFlags.Revoked) != 0)
        {
            return "it is revoked";
        }

        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0 || flags == X509ChainStatusFlags.NoError)
        {
            return certificate.Subject == certificate.Issuer
                ? "it is self-signed; trust it with its CA or pin its fingerprint"
                : $"its issuer {certificate.Issuer} is not a trusted CA; trust that CA or pin the certificate's fingerprint";
        }

        return flags.ToString();
    }

    private static string Names(X509Certificate certificate)
    {
        var names = new List<string>();
        if (certificate is X509Certificate2 two)
        {
            foreach (var extension in two.Extensions)
            {
                if (extension.Oid?.Value == "2.5.29.17")
                {
                    var san = new X509SubjectAlternativeNameExtension(extension.RawData, extension.Critical);
                    names.AddRange(san.EnumerateDnsNames());
                    names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
                }
            }

            if (names.Count == 0)
            {
                names.Add(two.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
            }
        }

        return names.Count == 0 ? certificate.Subject : string.Join(", ", names);
    }

}
