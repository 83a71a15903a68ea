namespace TcpTalk.Server;

/// <summary>
/// The byte stream under one connection: the accepted socket itself (<see cref="SocketTransport"/>) or TLS over it
/// (<see cref="TlsTransport"/>). <see cref="ConnectionHandler"/> reads and writes only through this, so framing,
/// limits, timeouts, acknowledgements and the journal's ordering are the same for both.
/// </summary>
/// <remarks>
/// The shape follows the handler's idle/busy cycle: <see cref="WaitForDataAsync"/> holds no buffer while a connection
/// is idle; <see cref="ReceiveAvailableAsync"/> then drains what is there without waiting; every send is expected to
/// complete at once, and one that does not is watched by the write timeout. The server's sweep still acts on the
/// socket itself (shutting down its receive side wakes a pending wait in either transport; disposing it aborts a
/// blocked send), so neither transport needs its own timers.
/// </remarks>
internal abstract class ConnectionTransport
{
    /// <summary>What <see cref="ReceiveAvailableAsync"/> returns when reading more would have to wait.</summary>
    public const int NothingAvailable = -1;

    /// <summary>Readies the connection before the greeting: plain TCP has nothing to wait for; TLS does the handshake.</summary>
    /// <exception cref="TlsFailedException">The TLS handshake failed or timed out.</exception>
    public abstract ValueTask StartAsync();

    /// <summary>
    /// Completes when bytes or the end of the stream can be read, without taking any (a zero-byte read), so an idle
    /// connection holds no buffer. The result has no meaning.
    /// </summary>
    public abstract ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Reads what can be read without waiting into <paramref name="buffer"/>: the count, 0 at the end of the stream, or
    /// <see cref="NothingAvailable"/> when the drain that followed <see cref="WaitForDataAsync"/> is over.
    /// </summary>
    public abstract ValueTask<int> ReceiveAvailableAsync(Memory<byte> buffer);

    /// <summary>
    /// Sends all of <paramref name="data"/>. Completes synchronously when it fits in the send buffer (the usual case);
    /// otherwise the peer is not reading, and the caller watches the wait with the write timeout.
    /// </summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data);

    /// <summary>Half-closes: nothing more is sent (TLS sends close_notify first), the receive side stays open.</summary>
    public abstract ValueTask ShutdownSendAsync();

    /// <summary>Closes the connection; with TLS, close_notify goes first when it can go without waiting.</summary>
    public abstract void Close();
}
