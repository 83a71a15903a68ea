using System.Net;
using System.Net.Sockets;
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
public sealed partial class TalkServer : IAsyncDisposable
{
    // After the abort, how long a stop still waits for the aborted connections: their sockets are closed and their
    // journal and sink cancelled, so only one that ignores its token is still running by then.
    private static readonly TimeSpan s_abortGrace = TimeSpan.FromSeconds(2);

    // Swapped whole by Reconfigure: a new connection takes the context current at its accept, an open one keeps its own.
    private volatile TalkServerOptions _options;
    private volatile ConnectionContext _context;
    private readonly ServerMetrics _metrics;
    private readonly OncePerSecond _tlsFailures;
    private readonly IMessageSink _sink;
    private readonly ILogger _logger;
    private readonly Lock _reconfiguring = new();
    private readonly ConnectionRegistry _connections = new();
    private readonly ConnectionAdmission _admission;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new();
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _acceptLoops = [];
    private readonly List<IPEndPoint> _bound = [];
    private readonly List<string> _unixPaths = [];
    private List<BoundListener> _listeners = [];
    private ITimer? _sweep;
    private long _nextConnectionId;
    private int _state = (int)ServerState.New;

    /// <summary>Creates a server; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public TalkServer(TalkServerOptions options, IMessageSink sink, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        options.Validate();
        _options = options;
        _sink = sink;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TcpTalk.Server");
        _metrics = new ServerMetrics(options.MeterFactory);
        _tlsFailures = new OncePerSecond(options.TimeProvider);
        _admission = new ConnectionAdmission(options);
        _context = CreateContext(options);
    }

    /// <summary>The IP endpoints actually bound or inherited (with OS-chosen ports filled in), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> BoundEndpoints => _bound;

    /// <summary>The paths of the unix sockets listened on (bound or inherited), after <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<string> UnixSocketPaths => _unixPaths;

    /// <summary>Connections open right now.</summary>
    public int ActiveConnections => _connections.Count;

    /// <summary>
    /// Connections accepted by a listener since start, including those then refused by a limit or by access control:
    /// the metric <c>tcptalk.server.connections_accepted</c>.
    /// </summary>
    public long AcceptedConnections => Interlocked.Read(ref _nextConnectionId);

    /// <summary>
    /// Connections refused since start: over a connection limit, or denied by access control; the metric
    /// <c>tcptalk.server.connections_rejected</c>.
    /// </summary>
    public long RejectedConnections => _admission.Rejected;

    private ILogger Logger => _logger;

    /// <summary>The options new connections are served with: those given to the constructor, or to the last <see cref="Reconfigure"/>.</summary>
    public TalkServerOptions Options => _options;

    private ServerState State => (ServerState)Volatile.Read(ref _state);

    /// <summary>Binds every listener and starts accepting. Returns once the server takes connections.</summary>
    /// <exception cref="ListenException">A listener could not be bound (<see cref="AddressInUseException"/> when taken).</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!TryMove(ServerState.New, ServerState.Started))
        {
            throw new InvalidOperationException("the server was already started");
        }

        try
        {
            _listeners = ListenerBinding.BindAll(_options);
        }
        catch
        {
            Volatile.Write(ref _state, (int)ServerState.Stopped); // never served: nothing to stop
            throw;
        }

        if (_context.Tls is { } tls)
        {
            var certificate = tls.Certificate;
            string clients = tls.ClientAuthorities.Count == 0 ? "not requested"
                : "required, issued by " + string.Join(" or ", tls.ClientAuthorities.Select(ca => ca.Subject));
            ServerLog.TlsCertificate(Logger, CertificateFingerprint.Describe(certificate), CertificateFingerprint.FormatSha256(certificate),
                certificate.NotAfter.ToUniversalTime(), clients);
        }

        foreach (var listener in _listeners)
        {
            if (listener.IPEndpoint is { } endpoint)
            {
                _bound.Add(endpoint);
            }
            else
            {
                _unixPaths.Add(listener.UnixPath!);
            }

            ServerLog.Listening(Logger, listener.Description);
            _acceptLoops.Add(AcceptLoopAsync(listener));
        }

        lock (_reconfiguring)
        {
            if (NeedsSweep(_options))
            {
                _sweep = StartSweep();
            }
        }

        return Task.CompletedTask;
    }

    private static bool NeedsSweep(TalkServerOptions options) =>
        options.IdleTimeout > TimeSpan.Zero || options.MessageTimeout > TimeSpan.Zero || options.WriteTimeout > TimeSpan.Zero;

    private ITimer StartSweep()
    {
        var period = TimeSpan.FromSeconds(1);
        return _options.TimeProvider.CreateTimer(static state => ((TalkServer)state!).Sweep(), this, period, period);
    }

    /// <summary>
    /// Starts the server if needed and serves until <paramref name="stoppingToken"/> is cancelled, then stops
    /// gracefully (see <see cref="StopAsync"/>). Throws if an accept loop dies.
    /// </summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        if (State == ServerState.New)
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
    /// at once); wait up to <see cref="TalkServerOptions.ShutdownTimeout"/>, or until <paramref name="cancellationToken"/>
    /// is cancelled; then abort the rest: close their sockets and cancel the token their journal and sink were given,
    /// and wait at most two seconds more for them (a journal or sink that ignores its token cannot hold the stop
    /// longer; it is logged at Warning). Messages completed before the stop have all been handed to the sink when
    /// this returns, unless the abort cut them off.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!TryMove(ServerState.Started, ServerState.Stopping))
        {
            return;
        }

        ServerLog.Stopping(Logger, _options.ShutdownTimeout, _connections.Count);
        lock (_reconfiguring)
        {
            _sweep?.Dispose();
        }

        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }

        _connections.BeginDraining();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        _connections.CompleteIfEmpty();

        if (!await DrainedWithinAsync(_options.ShutdownTimeout, cancellationToken).ConfigureAwait(false))
        {
            ServerLog.AbortingConnections(Logger, _connections.Count);
            await _aborting.CancelAsync().ConfigureAwait(false);
            _connections.AbortAll();
            if (!await DrainedWithinAsync(s_abortGrace, CancellationToken.None).ConfigureAwait(false))
            {
                ServerLog.ConnectionsLeftRunning(Logger, _connections.Count);
            }
        }

        Volatile.Write(ref _state, (int)ServerState.Stopped);
        ServerLog.Stopped(Logger, AcceptedConnections);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        if (_connections.Count == 0)
        {
            // A connection left running after the abort may still read these tokens: then they stay undisposed.
            _stopping.Dispose();
            _aborting.Dispose();
        }
    }

    private bool TryMove(ServerState from, ServerState to) =>
        Interlocked.CompareExchange(ref _state, (int)to, (int)from) == (int)from;

    private async Task<bool> DrainedWithinAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _connections.Drained.WaitAsync(timeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false; // the caller will not wait any longer: abort now
        }
    }

    private void OnConnectionClosed(ConnectionHandler handler)
    {
        if (handler.HoldsAddressSlot)
        {
            _admission.Release(handler.Info);
        }

        _connections.Remove(handler);
    }

    private async Task AcceptLoopAsync(BoundListener listener)
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
                    socket = await listener.Socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
                    backoffMs = 0;
                }
                catch (Exception) when (_stopping.IsCancellationRequested || State >= ServerState.Stopping)
                {
                    return; // StopAsync disposes the listeners before it cancels _stopping: an aborted accept is the stop
                }
                catch (SocketException e)
                {
                    // EMFILE, ENFILE, ECONNABORTED, ENOBUFS...: transient; back off (capped) so we never spin.
                    backoffMs = Math.Clamp(backoffMs * 2, 5, 1000);
                    ServerLog.AcceptFailed(Logger, listener.Name, e.SocketErrorCode.ToString(), backoffMs);
                    await Task.Delay(TimeSpan.FromMilliseconds(backoffMs), _options.TimeProvider, _stopping.Token).ConfigureAwait(false);
                    continue;
                }

                Admit(socket, listener);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            ServerLog.AcceptLoopDied(Logger, e, listener.Name);
            _failed.TrySetException(e);
        }
    }

    private void Admit(Socket socket, BoundListener listener)
    {
        long id = Interlocked.Increment(ref _nextConnectionId);
        var context = _context; // one snapshot for this connection, whatever a reload does meanwhile
        context.Metrics.Accepted();
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

        // A trusted proxy's connection names its client only in its PROXY header: until the handler has read it, only
        // the limit that does not depend on the client applies (allow/deny and the per-address slot come after).
        bool proxied = !info.IsUnixSocket && context.ProxyHeaders?.Trusts(info.RemoteAddress) == true;
        if ((proxied ? ConnectionAdmission.CheckCapacity(_connections.Count, context.Options) : _admission.Check(info, _connections.Count, context.Options)) is { } refusal)
        {
            _admission.Refuse(socket, info, refusal, context);
            return;
        }

        var handler = new ConnectionHandler(context, socket, info, awaitsProxyHeader: proxied);
        _connections.Add(handler);
        if (_stopping.IsCancellationRequested)
        {
            handler.RequestStop();
        }

        // Run inline up to the handler's first wait (greeting sent, receive pending): no thread hop per connection.
        // The task is tracked through the registry and its Drained task, never lost.
        _ = handler.RunAsync();
    }

    private void Sweep()
    {
        long now = _options.TimeProvider.GetTimestamp();
        foreach (var handler in _connections.Handlers)
        {
            string? expired = handler.CheckTimeouts(now); // each with the timeouts it was accepted with
            if (expired is not null)
            {
                ServerLog.ConnectionTimedOut(Logger, handler.Info.Id, handler.Info.Remote, expired);
            }
        }
    }
}
