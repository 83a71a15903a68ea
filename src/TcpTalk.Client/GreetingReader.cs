using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Reads the server's first frame, the greeting, within <see cref="TalkClientOptions.ResponseTimeout"/>, and turns
/// every way it can fail into the exception that says why: no greeting, too long, an error frame instead, a reset, a
/// TLS refusal after the handshake, or (over plain TCP) a TLS server answering.
/// </summary>
internal static class GreetingReader
{
    private const byte AlertRecord = 0x15, HandshakeRecord = 0x16, TlsMajorVersion = 0x03, HighestTlsMinorVersion = 0x04;

    /// <summary>The greeting's bytes, terminator excluded.</summary>
    public static async Task<byte[]> ReadAsync(FrameReader reader, TalkClientOptions options, TlsClientHandshake? handshake, string target,
        CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.ResponseTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        if (handshake is null)
        {
            reader.CheckStart = received => RejectTls(received, target);
        }

        byte[]? greeting;
        try
        {
            greeting = await reader.ReadFrameAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TalkTimeoutException($"connected to {target} but no greeting arrived within {DurationText.Format(options.ResponseTimeout)}");
        }
        catch (MessageTooLongException e)
        {
            throw new ProtocolException($"greeting from {target} is longer than {e.Limit} bytes (the limit); is this a TcpTalk server with {options.Framing.ToName()} framing?", e);
        }
        catch (MalformedFrameException e)
        {
            throw new ProtocolException($"greeting from {target} is not a {options.Framing.ToName()} frame ({e.Message}); is this a TcpTalk server with {options.Framing.ToName()} framing?", e);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            throw (Exception?)handshake?.RefusedAfterHandshake(e) ?? new ServerClosedException($"{target} reset the connection before sending a greeting", e);
        }
        catch (IOException e) when (handshake is not null)
        {
            // A TLS alert where the greeting should be: with TLS 1.3, mutual TLS refuses a client only now.
            throw handshake.RefusedAfterHandshake(e) ?? new TlsHandshakeException($"the TLS session with {target} broke before the greeting", e) { Transient = true };
        }
        finally
        {
            reader.CheckStart = null;
        }

        if (greeting is null)
        {
            throw (Exception?)handshake?.RefusedAfterHandshake() ?? new GreetingMissingException($"{target} closed the connection without sending a greeting");
        }

        if (ServerReply.TryParseError(greeting, out string sentence))
        {
            throw new ServerErrorException(sentence);
        }

        return greeting;
    }

    /// <summary>
    /// Over plain TCP, a TLS record header (content type alert or handshake, version 3.x) where the greeting should
    /// start means a TLS server: say so at once instead of waiting for a terminator that never comes.
    /// </summary>
    private static void RejectTls(ReadOnlySpan<byte> received, string target)
    {
        if (received.Length >= 3 && received[0] is AlertRecord or HandshakeRecord && received[1] == TlsMajorVersion && received[2] <= HighestTlsMinorVersion)
        {
            string record = received[0] == AlertRecord ? "a TLS alert" : "a TLS handshake record";
            throw new TlsHandshakeException($"{target} is a TLS server: it answered with {record} where the greeting should be; connect with TLS (TalkClientOptions.Tls)");
        }
    }
}
