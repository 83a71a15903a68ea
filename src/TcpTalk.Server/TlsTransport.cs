using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// TLS over the accepted socket, through <see cref="SslStream"/>. The handshake comes first (<see cref="StartAsync"/>),
/// bounded by <see cref="ServerTlsOptions.HandshakeTimeout"/> on the server's clock. Waiting is a zero-byte read of
/// the SslStream (it completes once a whole record is decrypted, still without a buffer of ours); draining is one read
/// per wake, which the decrypted record satisfies at once. Socket errors surface as the same
/// <see cref="SocketException"/>s the plain transport throws; TLS errors as <see cref="TlsFailedException"/>.
/// </summary>
internal sealed class TlsTransport : ConnectionTransport
{
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");
    private const int WakesBeforeYield = 16; // fairness, as the plain drain's reads: a flooding client lets others run

    private readonly Socket _socket;
    private readonly Settings _settings;
    private readonly TimeProvider _time;
    private readonly CancellationToken _stopping;
    private SslStream? _ssl;
    private int _wakes;
    private bool _readSinceWait;
    private bool _closeNotifySent;
    private bool _broken = true; // until the handshake succeeds: no close_notify on a failed session
    private string? _clientCertificateRejection;

    public TlsTransport(Socket socket, Settings settings, TimeProvider time, CancellationToken stopping)
    {
        _socket = socket;
        _settings = settings;
        _time = time;
        _stopping = stopping;
    }

    /// <summary>The negotiated protocol, after the handshake.</summary>
    public SslProtocols Protocol => Ssl.SslProtocol;

    /// <summary>The client's certificate (mutual TLS), after the handshake.</summary>
    public X509Certificate? ClientCertificate => Ssl.RemoteCertificate;

    private SslStream Ssl => _ssl ?? throw new InvalidOperationException("TLS used before StartAsync");

    public override async ValueTask StartAsync()
    {
        // Made here, not in the constructor, so that any failure ends this connection only (never the accept loop).
        _ssl = new SslStream(new NetworkStream(_socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = _settings.CertificateContext,
            ClientCertificateRequired = _settings.ClientAuthorities.Count > 0,
            RemoteCertificateValidationCallback = _settings.ClientAuthorities.Count > 0 ? ValidateClientCertificate : null,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            AllowRenegotiation = false,
        };

        // The server's clock, so tests move time instead of sleeping; a stop cuts a handshake short too (no message is
        // in flight before the greeting).
        using var timeout = _settings.HandshakeTimeout > TimeSpan.Zero
            ? new CancellationTokenSource(_settings.HandshakeTimeout, _time)
            : new CancellationTokenSource();
        using var stop = _stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), timeout);
        try
        {
            await Ssl.AuthenticateAsServerAsync(options, timeout.Token).ConfigureAwait(false);
            _broken = false;
        }
        catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
        {
            throw new TlsFailedException($"no TLS handshake within {DurationText.Format(_settings.HandshakeTimeout)} (handshake timeout)");
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException)
        {
            if (_clientCertificateRejection is { } rejection)
            {
                throw new TlsFailedException(rejection, e, clientCertificateRejected: true);
            }

            throw new TlsFailedException(DescribeHandshakeFailure(e), e);
        }
    }

    public override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken)
    {
        _readSinceWait = false;
        if (++_wakes == WakesBeforeYield)
        {
            _wakes = 0;
            return YieldThenWaitAsync(cancellationToken);
        }

        return ReadAsync(Memory<byte>.Empty, cancellationToken);
    }

    private async ValueTask<int> YieldThenWaitAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        return await ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
    }

    public override ValueTask<int> ReceiveAvailableAsync(Memory<byte> buffer)
    {
        // One read per wake: the wait completed because a record is decrypted, so this read does not wait. A second
        // one could, holding the buffer while idle; the next wait completes at once if more is already decrypted.
        if (_readSinceWait)
        {
            return new(NothingAvailable);
        }

        _readSinceWait = true;
        return ReadAsync(buffer, CancellationToken.None);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await Ssl.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            throw Translate(e);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        try
        {
            await Ssl.WriteAsync(data).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            throw Translate(e);
        }
    }

    public override async ValueTask ShutdownSendAsync()
    {
        _closeNotifySent = true;
        try
        {
            await Ssl.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or AuthenticationException)
        {
            throw Translate(e);
        }

        _socket.Shutdown(SocketShutdown.Send);
    }

    public override void Close()
    {
        if (_ssl is not null && !_broken && !_closeNotifySent)
        {
            // A polite close_notify, but never a wait: a client that does not read must not hold the handler here.
            try
            {
                var closing = _ssl.ShutdownAsync();
                if (!closing.IsCompleted)
                {
                    _ = closing.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                else
                {
                    _ = closing.Exception;
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or AuthenticationException)
            {
            }
        }

        _ssl?.Dispose();
        _socket.Dispose();
    }

    /// <summary>Socket errors as the plain transport reports them; anything else is the TLS session breaking.</summary>
    private Exception Translate(Exception e)
    {
        _broken = true;
        if (e.InnerException is SocketException socketError)
        {
            return socketError;
        }

        return new TlsFailedException("TLS error: the client's TLS stream is corrupt or was cut off", e);
    }

    private bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            _clientCertificateRejection = "refused: no client certificate (mutual TLS requires one)";
            return false;
        }

        // Trust only the configured CAs: the system store would let any publicly issued certificate in.
        using var own = new X509Chain();
        own.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        own.ChainPolicy.CustomTrustStore.AddRange(_settings.ClientAuthorities);
        own.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        own.ChainPolicy.ApplicationPolicy.Add(ClientAuthentication);
        if (chain is not null)
        {
            own.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore); // intermediates the client sent
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (own.Build(leaf))
        {
            return true;
        }

        string status = string.Join(", ", own.ChainStatus.Select(s => s.Status).Distinct());
        _clientCertificateRejection = $"refused client certificate {leaf.Subject}: not issued by a trusted CA or not valid ({status})";
        return false;
    }

    private static string DescribeHandshakeFailure(Exception e) => e switch
    {
        SocketException or IOException { InnerException: SocketException } => "client reset the connection during the TLS handshake",
        AuthenticationException { InnerException: null } => "not a TLS client: the first bytes were not a TLS handshake",
        IOException => "client closed the connection during the TLS handshake",
        _ => $"TLS handshake failed ({e.GetType().Name}: {e.Message})",
    };

    /// <summary>What every TLS connection of one server shares, prepared once at server start.</summary>
    internal sealed class Settings
    {
        public Settings(ServerTlsOptions options)
        {
            Certificate = options.Certificate ?? throw new ArgumentException("Tls.Certificate is missing");

            // Built once, not per handshake; offline: intermediates missing from the options are never fetched.
            CertificateContext = SslStreamCertificateContext.Create(Certificate, [.. options.IntermediateCertificates], offline: true);
            ClientAuthorities = [.. options.ClientCertificateAuthorities];
            HandshakeTimeout = options.HandshakeTimeout;
        }

        public X509Certificate2 Certificate { get; }

        public SslStreamCertificateContext CertificateContext { get; }

        public X509Certificate2Collection ClientAuthorities { get; }

        public TimeSpan HandshakeTimeout { get; }
    }
}

/// <summary>The TLS handshake or the TLS session of one connection failed; the message says how.</summary>
internal sealed class TlsFailedException(string message, Exception? innerException = null, bool clientCertificateRejected = false)
    : IOException(message, innerException)
{
    /// <summary>Mutual TLS refused the client's certificate (or its lack of one): logged at Warning, not Debug.</summary>
    public bool ClientCertificateRejected { get; } = clientCertificateRejected;
}
