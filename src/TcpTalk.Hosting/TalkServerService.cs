using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using TcpTalk.Admin;
using TcpTalk.Journal;
using TcpTalk.Journal.Postgres;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Hosting;

/// <summary>
/// A TcpTalk server as a hosted service of the .NET Generic Host, registered by
/// <see cref="TalkServerServiceCollectionExtensions.AddTalkServer(Microsoft.Extensions.DependencyInjection.IServiceCollection, Microsoft.Extensions.Configuration.IConfiguration)"/>.
/// Start reads the certificate files, binds every listener and then opens the journal, so the host's "started" (and
/// systemd's READY=1) means clients can connect, and a server that cannot listen leaves no journal file behind; a
/// failure there fails the host's start with the exception that names it. Stop is the server's graceful stop,
/// bounded by its own ShutdownTimeout. The service owns the journal and the certificates, and disposes them after
/// the server. With <c>Admin:Listen</c> set it also serves the admin endpoint (metrics, health, readiness), bound
/// before the server; and it can take new settings while serving (<see cref="Reload"/>) and reloads the TLS
/// certificate when its files change (TalkServerService.Reload.cs).
/// </summary>
public sealed partial class TalkServerService : IHostedService, IAsyncDisposable
{
    private TalkServerSettings _settings; // the settings in force: replaced by each reload that applies
    private readonly IMessageSink _sink;
    private readonly ILoggerFactory _loggers;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly IMeterFactory? _meters;
    private readonly ISystemdNotifier? _systemd;
    private readonly ISettingNames _names;
    private readonly CancellationTokenSource _stop = new();
    private ServerTlsOptions? _tls;
    private DeferredJournal? _journal;
    private TalkServer? _server;
    private AdminEndpoint? _admin;
    private Task? _running;
    private int _disposed;

    /// <summary>Creates the service; nothing is read, bound or opened before <see cref="StartAsync"/>.</summary>
    /// <param name="settings">The settings (already validated: <see cref="TalkServerSettings.FindProblems"/> is empty).</param>
    /// <param name="sink">Where received messages go after the journal (<see cref="MessageSinks.None"/> to keep them in the journal only).</param>
    /// <param name="loggers">The server's and the journal's loggers.</param>
    /// <param name="lifetime">Stopped when the server stops on its own; its events carry the systemd notifications.</param>
    /// <param name="meters">Creates the meter <c>TcpTalk.Server</c>; null for the process-wide one.</param>
    /// <param name="systemd">
    /// Sends READY=1 once listening and STOPPING=1 when the stop begins, when the host's lifetime is not systemd's own
    /// (which sends them itself); null: no notifications.
    /// </param>
    /// <param name="names">How failures name the settings; default: by their keys.</param>
    public TalkServerService(TalkServerSettings settings, IMessageSink sink, ILoggerFactory loggers, IHostApplicationLifetime lifetime,
        IMeterFactory? meters = null, ISystemdNotifier? systemd = null, ISettingNames? names = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(loggers);
        ArgumentNullException.ThrowIfNull(lifetime);
        (_settings, _sink, _loggers, _lifetime, _meters, _systemd) = (settings, sink, loggers, lifetime, meters, systemd);
        _names = names ?? SettingKeyNames.Root;
    }

    /// <summary>The server, once <see cref="StartAsync"/> has bound it (its <see cref="TalkServer.BoundEndpoints"/>); else null.</summary>
    public TalkServer? Server => _running is null ? null : _server;

    /// <summary>The admin endpoint once started (its <see cref="AdminEndpoint.BoundEndpoint"/>), or null when <c>Admin:Listen</c> is not set.</summary>
    public AdminEndpoint? Admin => _admin;

    /// <summary>The settings in force: those the service was created with, or those of the last reload that applied.</summary>
    public TalkServerSettings Settings => _settings;

    /// <summary>Serving: completes when the server has stopped, faulted if it failed while running.</summary>
    public Task Running => _running ?? Task.CompletedTask;

    /// <summary>Reads the certificates, binds every listener, then opens the journal and serves.</summary>
    /// <exception cref="TalkSettingsException">A setting cannot be used (a certificate file, a value out of range).</exception>
    /// <exception cref="ListenException">A listener could not be bound (<see cref="AddressInUseException"/> when taken).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_settings.FindProblems(_names) is [var problem, ..])
        {
            throw new TalkSettingsException(problem, _names);
        }

        var options = _settings.Server.ToOptions();
        TakeSystemdSockets(options);
        _tls = _settings.Tls.LoadOptions(_names);
        options.Tls = _tls;
        options.MeterFactory ??= _meters;
        _journal = _settings.Journal.Enabled ? new DeferredJournal() : null;
        options.Journal = _journal;
        await StartAdminAsync(cancellationToken).ConfigureAwait(false); // before the server: it counts from the first connection
        _server = new TalkServer(options, _sink, _loggers);
        WatchCertificate(); // from the files just read: a renewal from now on is seen
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        if (_journal is not null)
        {
            try
            {
                // Acknowledged messages must survive a power loss, not just a crash: an ack is a promise.
                _journal.Opened(await OpenJournalAsync(options.Acknowledge, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception e)
            {
                _journal.Failed(e);
                throw;
            }
        }

        _running = ServeAsync(_server);
        if (_systemd is { IsEnabled: true })
        {
            // After the bind: a client told "ready" can connect.
            _lifetime.ApplicationStarted.Register(() => _systemd.Notify(ServiceState.Ready));
            _lifetime.ApplicationStopping.Register(() => _systemd.Notify(ServiceState.Stopping));
        }
    }

    /// <summary>
    /// Systemd socket activation, automatic: when LISTEN_FDS and LISTEN_PID name sockets for this process, the server
    /// serves them and binds nothing (<see cref="TalkServerOptions.InheritedListeners"/>). Server:Listen beside them is
    /// refused, since it would say something else than the socket unit; Server:Port is not used (logged when it is
    /// not the default). Microsoft.Extensions.Hosting.Systemd does notifications and logging only, not this.
    /// </summary>
    /// <exception cref="TalkSettingsException">Server:Listen is set too.</exception>
    private void TakeSystemdSockets(TalkServerOptions options)
    {
        IReadOnlyList<InheritedSocket> inherited;
        try
        {
            inherited = SystemdSockets.Take();
        }
        catch (Exception e) when (e is FormatException or System.Net.Sockets.SocketException)
        {
            throw new TalkSettingsException(new SettingProblem("Server:Listen", $"cannot take systemd's sockets: {e.Message}"), _names, e);
        }

        if (inherited.Count == 0)
        {
            return;
        }

        if (options.Listen.Count > 0)
        {
            foreach (var socket in inherited)
            {
                socket.Socket.Dispose();
            }

            throw new TalkSettingsException(new SettingProblem("Server:Listen",
                $"cannot be used with systemd socket activation ({inherited.Count} socket(s) in LISTEN_FDS): the socket unit's ListenStream= decides where the server listens"), _names);
        }

        options.InheritedListeners.Clear();
        foreach (var socket in inherited)
        {
            options.InheritedListeners.Add(socket.Socket);
        }

        if (options.Port != TcpTalk.Protocol.HostAndPort.DefaultPort)
        {
            HostingLog.PortNotUsed(_loggers.CreateLogger("TcpTalk.Hosting"), _names.NameWithValue("Server:Port", options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)), inherited.Count);
        }
    }

    /// <summary>
    /// Binds the admin endpoint of <c>Admin:Listen</c>, if set: /readyz says ready while the server serves, its journal
    /// is writable and no stop has begun.
    /// </summary>
    private async Task StartAdminAsync(CancellationToken cancellationToken)
    {
        if (_settings.Admin.GetEndpoint() is not { } endpoint)
        {
            return;
        }

        var readiness = new ServerReadiness(
            isListening: () => _running is { IsCompleted: false },
            journal: _journal,
            isDraining: () => _stop.IsCancellationRequested || _lifetime.ApplicationStopping.IsCancellationRequested);
        var admin = new AdminEndpoint(new AdminEndpointOptions { Listen = endpoint, Readiness = readiness });
        try
        {
            await admin.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            await admin.DisposeAsync().ConfigureAwait(false);
            throw new ListenException($"admin endpoint ({_names.Name("Admin:Listen")}): {ListenException.FromSocketError(endpoint, e).Message}", e);
        }

        _admin = admin;
        HostingLog.AdminListening(_loggers.CreateLogger("TcpTalk.Hosting"), admin.BoundEndpoint!.ToString());
    }

    /// <summary>
    /// The store <see cref="JournalSettings.Path"/> names: PostgreSQL for a <c>postgres://</c> URI (an ack is its
    /// COMMIT), else the SQLite file, with Full durability when acknowledgements are promised.
    /// </summary>
    private async Task<IMessageJournal> OpenJournalAsync(bool acknowledge, CancellationToken cancellationToken)
    {
        var settings = _settings.Journal;
        if (PostgresJournalUri.IsPostgresUri(settings.Path))
        {
            var postgres = new PostgresJournalOptions { NodeName = string.IsNullOrEmpty(settings.NodeName) ? null : settings.NodeName };
            return await PostgresMessageJournal.OpenAsync(settings.Path, postgres, _loggers, cancellationToken).ConfigureAwait(false);
        }

        // Acknowledged messages must survive a power loss, not just a crash: an ack is a promise.
        var durability = acknowledge ? JournalDurability.Full : JournalDurability.Normal;
        var options = new JournalOptions { Durability = durability, MaxBytes = settings.GetMaxBytes(), MaxAge = settings.GetMaxAge() };
        return SqliteMessageJournal.Open(settings.Path, options, _loggers);
    }

    /// <summary>Stops the server gracefully (bounded by its ShutdownTimeout) and waits for it, or for <paramref name="cancellationToken"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reported from Running by whoever awaits it, once; the host must not log it with a stack trace.
        }
    }

    /// <summary>Disposes the server, then the journal (connections still appending finish first), then the certificates.</summary>
    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice (as itself and as the hosted service it also is).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        StopWatching();
        if (_journal is not null)
        {
            await _journal.DisposeAsync().ConfigureAwait(false);
        }

        if (_admin is not null)
        {
            await _admin.DisposeAsync().ConfigureAwait(false); // after the drain: /readyz said "draining" until here
        }

        TlsSettings.DisposeCertificates(_tls);
        foreach (var retired in _retiredTls)
        {
            TlsSettings.DisposeCertificates(retired);
        }

        _stop.Dispose();
    }

    private async Task ServeAsync(TalkServer server)
    {
        try
        {
            await server.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        finally
        {
            _lifetime.StopApplication(); // a server that stops on its own (an accept loop died) stops the host too
        }
    }
}
