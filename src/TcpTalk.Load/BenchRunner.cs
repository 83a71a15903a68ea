using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using TcpTalk.Client;

namespace TcpTalk.Load;

/// <summary>
/// Runs a load against a server (<c>tcptalk bench</c>): one probe connection first, then the load the
/// <see cref="BenchOptions"/> describe, and returns its figures.
/// </summary>
public static class BenchRunner
{
    /// <summary>
    /// Probes the server, runs the load to its end and returns the figures; <paramref name="cancellationToken"/> ends
    /// the load early (Ctrl+C: <see cref="BenchResult.Interrupted"/>). Progress goes to <paramref name="progressWriter"/>
    /// in <paramref name="progress"/>'s style.
    /// </summary>
    /// <remarks>
    /// The probe is one connection made as <c>tcptalk send</c> makes it (<see cref="TalkClient"/>): an unknown host, a
    /// refusing server, an untrusted certificate or a server that does not greet stop here with the client's
    /// exception, before any load. It also picks the address (and, over TLS, the certificate) every load connection
    /// then uses. Failures of load connections are counted in the result, never thrown.
    /// </remarks>
    public static async Task<BenchResult> RunAsync(BenchOptions options, BenchProgressStyle progress, TextWriter progressWriter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(progressWriter);
        var target = await ProbeAsync(options, cancellationToken).ConfigureAwait(false);
        var run = new BenchRun(options, target);
        using (BenchProgress.Start(run, progress, progressWriter))
        {
            return await run.RunAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<LoadTarget> ProbeAsync(BenchOptions options, CancellationToken cancellationToken)
    {
        var probeOptions = new TalkClientOptions
        {
            Framing = options.Framing,
            ConnectTimeout = options.Timeout,
            ResponseTimeout = options.Timeout,
            Tls = options.Tls,
            // The probe is a connection like the others: with --proxy-protocol, a trusting server would refuse it without one.
            Preamble = MadeUpProxyHeaders.ForProbe(options),
        };
        var probe = await TalkClient.ConnectAsync(options.Host, options.Port, probeOptions, cancellationToken).ConfigureAwait(false);
        await using (probe.ConfigureAwait(false))
        {
            var address = probe.RemoteEndPoint;
            byte[]? certificate = probe.ServerCertificate?.RawData;
            await probe.CompleteAsync(cancellationToken).ConfigureAwait(false);
            return new LoadTarget(address, options.Tls is { } tls ? LoadTls(tls, options.Host, certificate) : null);
        }
    }

    /// <summary>
    /// TLS for the load connections: the probe connection checked the server's certificate the way the options say,
    /// so each load connection accepts exactly that certificate (or anything with <see cref="ClientTlsOptions.Insecure"/>).
    /// </summary>
    private static SslClientAuthenticationOptions LoadTls(ClientTlsOptions tls, string host, byte[]? probed) => new()
    {
        TargetHost = tls.TargetHost ?? host,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            tls.Insecure || (probed is not null && certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(probed)),
    };
}
