using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>
/// The TcpTalk server: listens, greets every client with <c>Welcome &lt;client-ip&gt;!</c>, and hands the messages
/// each client sends to an <see cref="IMessageSink"/> until the client half-closes.
/// </summary>
/// <example>
/// <code>
/// var options = new TalkServerOptions { Port = 12345 };
/// await using var server = new TalkServer(options, MessageSinks.FromDelegate(m => Console.WriteLine(m)));
/// await server.RunAsync(stoppingToken);
/// </code>
/// </example>
public sealed class TalkServer : IAsyncDisposable
{
    private readonly TalkServerOptions _options;
    private readonly ConcurrentDictionary<long, ConnectionHandler> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly List<IPEndPoint> _bound = [];
    private readonly ConcurrentDictionary<IPAddress, int>? _perAddress;
    private ITimer? _sweep;
    private long _nextConnectionId;
    private long _rejected;
    private long _rejectedSinceLog;
    private long _lastRejectionLog;
    private int _state; // 0 new, 1 started, 2 stopping, 3 stopped

    /// <summary>Creates a server; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public TalkServer(TalkServerOptions options, IMessageSink sink, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        Sink = sink ?? throw new ArgumentNullException(nameof(sink));
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TcpTalk.Server");
        Framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        Greeting = GreetingTemplate.Parse(options.Greeting, options.Encoding);
        Encoding = options.Encoding;
        TimeProvider = options.TimeProvider;
        Journal = options.Journal;
        Acknowledge = options.Acknowledge;
        Metrics = new ServerMetrics(options.MeterFactory);
        Tls = options.Tls is { } tls ? new TlsTransport.Settings(tls) : null;
        _perAddress = options.MaxConnectionsPerAddress > 0 ? new ConcurrentDictionary<IPAddress, int>() : null;
    }

    /// <summary>The endpoints actually bound (with OS-chosen ports filled in), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndpoints => _bound;

    /// <summary>Connections open right now.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>Connections accepted since start, including those refused by a limit or by access control.</summary>
    public long AcceptedConnections => Interlocked.Read(ref _nextConnectionId);

    /// <summary>Connections refused since start: over a connection limit, or denied by access control.</summary>
    public long RejectedConnections => Interlocked.Read(ref _rejected);

    internal ILogger Logger { get; }

    internal IMessageSink Sink { get; }

    internal MessageFramer Framer { get; }

    internal GreetingTemplate Greeting { get; }

    internal Encoding Encoding { get; }

    internal TimeProvider TimeProvider { get; }

    internal IMessageJournal? Journal { get; }

    internal ServerMetrics Metrics { get; }

    internal bool Acknowledge { get; }

    /// <summary>What every TLS connection shares, or null for plain TCP.</summary>
    internal TlsTransport.Settings? Tls { get; }

    internal CancellationToken StoppingToken => _stopping.Token;

    /// <summary>Binds every listener and starts accepting. Returns once the server takes connections.</summary>
    /// <exception cref="ListenException">A listener could not be bound (<see cref="AddressInUseException"/> when taken).</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("the server was already started");
        }

        try
        {
            if (_options.Listen.Count == 0)
            {
                _listeners.Add(BindDefault(_options.Port));
            }
            else
            {
                foreach (var endpoint in _options.Listen)
                {
                    _listeners.Add(Bind(endpoint, dualMode: endpoint.Address.Equals(IPAddress.IPv6Any)));
                }
            }
        }
        catch
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }

            _listeners.Clear();
            Volatile.Write(ref _state, 3); // never served: nothing to stop
            throw;
        }

        if (Tls is { } tls)
        {
            var certificate = tls.Certificate;
            string clients = tls.ClientAuthorities.Count == 0 ? "not requested"
                : "required, issued by " + string.Join(" or ", tls.ClientAuthorities.Select(ca => ca.Subject));
            ServerLog.TlsCertificate(Logger, CertificateFingerprint.Describe(certificate), CertificateFingerprint.FormatSha256(certificate),
                certificate.NotAfter.ToUniversalTime(), clients);
        }

        foreach (var listener in _listeners)
        {
            var endpoint = (IPEndPoint)listener.LocalEndPoint!;
            _bound.Add(endpoint);
            ServerLog.Listening(Logger, Describe(listener, endpoint));
            _acceptLoops.Add(AcceptLoopAsync(listener, endpoint));
        }

        if (_options.IdleTimeout > TimeSpan.Zero || _options.MessageTimeout > TimeSpan.Zero || _options.WriteTimeout > TimeSpan.Zero)
        {
            var period = TimeSpan.FromSeconds(1);
            _sweep = TimeProvider.CreateTimer(static state => ((TalkServer)state!).Sweep(), this, period, period);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts the server if needed and serves until <paramref name="stoppingToken"/> is cancelled, then stops
    /// gracefully (see <see cref="StopAsync"/>). Throws if an accept loop dies.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        if (Volatile.Read(ref _state) == 0)
        {
            await StartAsync(stoppingToken).ConfigureAwait(false);
        }

        var stopRequested = Task.Delay(Timeout.Infinite, stoppingToken);
        var first = await Task.WhenAny(stopRequested, _failed.Task).ConfigureAwait(false);
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        if (first == _failed.Task)
        {
            await _failed.Task.ConfigureAwait(false); // rethrows why an accept loop died
        }
    }

    /// <summary>
    /// Stops gracefully: stop accepting; ask every connection to close at its next message boundary (idle ones close
    /// at once); wait up to <see cref="TalkServerOptions.ShutdownTimeout"/>; abort the rest. Messages completed before
    /// the stop have all been handed to the sink when this returns.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) != 1)
        {
            return;
        }

        ServerLog.Stopping(Logger, _options.ShutdownTimeout, _connections.Count);
        _sweep?.Dispose();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        foreach (var handler in _connections.Values)
        {
            handler.RequestStop();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        if (_connections.IsEmpty)
        {
            _drained.TrySetResult();
        }

        try
        {
            await _drained.Task.WaitAsync(_options.ShutdownTimeout, TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            ServerLog.AbortingConnections(Logger, _connections.Count);
            foreach (var handler in _connections.Values)
            {
                handler.Abort();
            }

            await _drained.Task.ConfigureAwait(false);
        }

        Volatile.Write(ref _state, 3);
        ServerLog.Stopped(Logger, AcceptedConnections);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal void OnConnectionClosed(ConnectionHandler handler)
    {
        _connections.TryRemove(handler.Info.Id, out _);
        if (_perAddress is not null)
        {
            _perAddress.AddOrUpdate(handler.Info.RemoteAddress, 0, static (_, n) => n - 1);
            _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(handler.Info.RemoteAddress, 0));
        }

        if (Volatile.Read(ref _state) >= 2 && _connections.IsEmpty)
        {
            _drained.TrySetResult();
        }
    }

    private async Task AcceptLoopAsync(Socket listener, IPEndPoint endpoint)
    {
        await Task.Yield(); // run the loop on the thread pool, not on StartAsync's caller
        int backoffMs = 0;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                    backoffMs = 0;
                }
                catch (Exception) when (_stopping.IsCancellationRequested || Volatile.Read(ref _state) >= 2)
                {
                    return; // StopAsync disposes the listeners before it cancels _stopping: an aborted accept is the stop
                }
                catch (SocketException e)
                {
                    // EMFILE, ENFILE, ECONNABORTED, ENOBUFS...: transient; back off (capped) so we never spin.
                    backoffMs = Math.Clamp(backoffMs * 2, 5, 1000);
                    ServerLog.AcceptFailed(Logger, ClientAddress.FormatEndpoint(endpoint), e.SocketErrorCode.ToString(), backoffMs);
                    await Task.Delay(TimeSpan.FromMilliseconds(backoffMs), TimeProvider, _stopping.Token).ConfigureAwait(false);
                    continue;
                }

                Admit(socket, endpoint);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ServerLog.AcceptLoopDied(Logger, e, ClientAddress.FormatEndpoint(endpoint));
            _failed.TrySetException(e);
        }
    }

    private void Admit(Socket socket, IPEndPoint listener)
    {
        long id = Interlocked.Increment(ref _nextConnectionId);
        ConnectionInfo info;
        try
        {
            info = AcceptedConnection.Describe(id, socket, listener);
        }
        catch (SocketException)
        {
            socket.Dispose(); // reset before we could even read its address
            return;
        }

        if (Refusal(info) is { } refusal)
        {
            Refuse(socket, info, refusal);
            return;
        }

        var handler = new ConnectionHandler(this, socket, info);
        _connections[id] = handler;
        if (_stopping.IsCancellationRequested)
        {
            handler.RequestStop();
        }

        // Run inline up to the handler's first wait (greeting sent, receive pending): no thread hop per connection.
        // The task is tracked through _connections and _drained, never lost.
        _ = handler.RunAsync();
    }

    /// <summary>Why <paramref name="info"/> may not be served, or null. Reserves a per-address slot when it may.</summary>
    private (string Reason, bool Silent, string Kind)? Refusal(ConnectionInfo info)
    {
        var address = info.RemoteAddress;
        if (_options.Deny.Count > 0 && _options.Deny.Any(n => n.Contains(address)))
        {
            return ("address denied", true, "denied");
        }

        if (_options.Allow.Count > 0 && !_options.Allow.Any(n => n.Contains(address)))
        {
            return ("address not allowed", true, "not_allowed");
        }

        int max = _options.MaxConnections;
        if (max > 0 && _connections.Count >= max)
        {
            return ($"server busy: {max} connections open (the limit); try again later", false, "max_connections");
        }

        if (_perAddress is not null)
        {
            int limit = _options.MaxConnectionsPerAddress;
            if (_perAddress.AddOrUpdate(address, 1, static (_, n) => n + 1) > limit)
            {
                _perAddress.AddOrUpdate(address, 0, static (_, n) => n - 1);
                return ($"too many connections from {address}: {limit} open (the limit)", false, "max_connections_per_address");
            }
        }

        return null;
    }

    /// <summary>
    /// Closes a refused connection at once: with one error line when it is a limit (so the client knows to retry),
    /// without a word when access control refused it. Logged at Warning, at most once a second with a count, so a
    /// flood cannot flood the log. With TLS the line is never sent: a TLS client would take plain text for a broken
    /// handshake, and a handshake only to refuse would spend the CPU a flood is made to exhaust.
    /// </summary>
    private void Refuse(Socket socket, ConnectionInfo info, (string Reason, bool Silent, string Kind) refusal)
    {
        Interlocked.Increment(ref _rejected);
        Metrics.Rejected(refusal.Kind);
        try
        {
            if (!refusal.Silent && Tls is null)
            {
                var frame = new System.Buffers.ArrayBufferWriter<byte>(128);
                ServerReply.WriteError(refusal.Reason, Framer, frame);
                socket.Blocking = false;
                socket.Send(frame.WrittenSpan, SocketFlags.None, out _);
            }
        }
        finally
        {
            socket.Dispose();
        }

        long now = TimeProvider.GetTimestamp();
        long since = Interlocked.Increment(ref _rejectedSinceLog);
        long last = Interlocked.Read(ref _lastRejectionLog);
        if (last == 0 || TimeProvider.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
        {
            if (Interlocked.CompareExchange(ref _lastRejectionLog, now, last) == last)
            {
                Interlocked.Add(ref _rejectedSinceLog, -since);
                ServerLog.ConnectionRefused(Logger, info.Remote, refusal.Reason, since);
            }
        }
    }

    private void Sweep()
    {
        long now = TimeProvider.GetTimestamp();
        foreach (var handler in _connections.Values)
        {
            string? expired = handler.CheckTimeouts(now, TimeProvider, _options.IdleTimeout, _options.MessageTimeout, _options.WriteTimeout);
            if (expired is not null)
            {
                ServerLog.ConnectionTimedOut(Logger, handler.Info.Id, handler.Info.Remote, expired);
            }
        }
    }

    private Socket BindDefault(int port)
    {
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                return Bind(new IPEndPoint(IPAddress.IPv6Any, port), dualMode: true);
            }
            catch (ListenException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressFamilyNotSupported })
            {
                // IPv6 is compiled in but disabled: fall back to IPv4 below.
            }
        }

        return Bind(new IPEndPoint(IPAddress.Any, port), dualMode: false);
    }

    private Socket Bind(IPEndPoint endpoint, bool dualMode)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (dualMode)
            {
                socket.DualMode = true;
            }
            else if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endpoint);
            if (_options.KeepAliveTime > TimeSpan.Zero)
            {
                // Set once on the listener: accepted sockets inherit it, which saves system calls per connection.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)_options.KeepAliveTime.TotalSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)_options.KeepAliveInterval.TotalSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, _options.KeepAliveCount);
            }

            socket.Listen(_options.ListenBacklog);
            return socket;
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw ListenException.FromSocketError(endpoint, e);
        }
    }

    private static string Describe(Socket listener, IPEndPoint endpoint)
    {
        string text = ClientAddress.FormatEndpoint(endpoint);
        return listener.AddressFamily == AddressFamily.InterNetworkV6 && listener.DualMode ? text + " (IPv6 and IPv4)" : text;
    }
}
