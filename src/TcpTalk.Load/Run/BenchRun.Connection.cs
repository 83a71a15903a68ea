using System.Diagnostics;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>The steps every mode shares: connect, TLS, read the greeting, half-close, and naming what went wrong.</summary>
internal sealed partial class BenchRun
{
    // The steps below are pooled ValueTask methods: a session awaits each of them once, and pooling their state
    // machines keeps a session down to its socket and stream allocations.

    /// <summary>Bytes read only to be thrown away (greeting tails, acks, anything a server sends); shared, never read.</summary>
    private readonly byte[] _discard = new byte[64 * 1024];

    /// <summary>
    /// Connects the slot's new socket, sends the PROXY header if asked, does the TLS handshake if asked, and reads the greeting, each step within
    /// <see cref="BenchOptions.Timeout"/> (the first from <paramref name="start"/>, the connect call).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Stream> ConnectAsync(LoadSlot slot, long start)
    {
        var family = _target.Address.AddressFamily;
        var socket = new Socket(family, SocketType.Stream, family == AddressFamily.Unix ? ProtocolType.Unspecified : ProtocolType.Tcp);
        slot.Attach(socket);
        Counters.Attempt();
        slot.SetDeadline(Clock.StepDeadline(start));
        await socket.ConnectAsync(_target.Address, CancellationToken.None).ConfigureAwait(false);
        Counters.Establish();
        if (_proxyHeaders is not null)
        {
            await socket.SendAsync(_proxyHeaders.Next(), SocketFlags.None).ConfigureAwait(false); // before TLS, as a balancer sends it
        }

        Stream stream = slot.Stream = new NetworkStream(socket, ownsSocket: false);
        if (_target.Tls is { } tls)
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            slot.Stream = stream = ssl;
            slot.SetDeadline(Clock.StepDeadline());
            await ssl.AuthenticateAsClientAsync(tls).ConfigureAwait(false);
        }

        slot.SetDeadline(Clock.StepDeadline());
        await ReadGreetingAsync(slot, stream).ConfigureAwait(false);
        slot.Greeted = true;
        Counters.Greet(start, Stopwatch.GetTimestamp(), record: _options.Mode != BenchMode.Session);
        return stream;
    }

    /// <summary>Reads up to the greeting's terminator; bytes after it are thrown away, as tcpload does.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ReadGreetingAsync(LoadSlot slot, Stream stream)
    {
        byte[] buffer = slot.GreetingBuffer;
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                throw new BenchFailureException(BenchErrorKind.BadGreeting);
            }

            int read = await stream.ReadAsync(buffer.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
            if (read == 0)
            {
                throw new BenchFailureException(BenchErrorKind.Closed);
            }

            if (_options.Framing.IsLengthPrefixed() ? CountedGreetingComplete(buffer.AsSpan(0, length + read))
                : buffer.AsSpan(length, read).Contains(_options.Terminator))
            {
                return;
            }

            length += read;
        }
    }

    /// <summary>Whether a length-prefixed greeting is all there; a header that is no length is a bad greeting.</summary>
    private bool CountedGreetingComplete(ReadOnlySpan<byte> received)
    {
        try
        {
            return new MessageFramer(_options.Framing, GreetingLimit).TryReadMessage(received, out _, out _, out _);
        }
        catch (ProtocolException)
        {
            throw new BenchFailureException(BenchErrorKind.BadGreeting);
        }
    }

    /// <summary>Tells the server nothing more comes: TLS close_notify first when over TLS, then the TCP half-close.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask HalfCloseAsync(LoadSlot slot, Stream stream)
    {
        if (stream is SslStream ssl)
        {
            await ssl.ShutdownAsync().ConfigureAwait(false);
        }

        slot.Socket?.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Reads and throws away everything until the server closes.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DiscardToEndAsync(Stream stream)
    {
        while (await stream.ReadAsync(_discard, CancellationToken.None).ConfigureAwait(false) > 0)
        {
        }
    }

    /// <summary>
    /// What a failed connection counts as: the reason it was aborted for (deadline, end of the run), else the kind of
    /// the error; null when the run ended it normally (not an error).
    /// </summary>
    private static BenchErrorKind? Classify(Exception exception, LoadSlot slot)
    {
        if (slot.AbortReason is { } reason)
        {
            return reason == LoadSlot.EndedByRun ? null : (BenchErrorKind)reason;
        }

        return exception switch
        {
            BenchFailureException e => e.Kind,
            SocketException e => BenchErrorKinds.Classify(e.SocketErrorCode),
            IOException { InnerException: SocketException e } => BenchErrorKinds.Classify(e.SocketErrorCode),
            AuthenticationException => BenchErrorKind.Tls,
            IOException => BenchErrorKind.Closed, // SslStream: the server closed in the middle of a TLS record or handshake
            _ => BenchErrorKind.Other,
        };
    }
}
