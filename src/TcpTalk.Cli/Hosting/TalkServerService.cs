using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using TcpTalk.Cli.Output;
using TcpTalk.Journal;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Cli.Hosting;

/// <summary>
/// <c>tcptalk serve</c> as a hosted service. Start opens the journal and binds every listener, so the host's
/// "started" (and systemd's READY=1) means clients can connect; a failure there fails the host's start with the
/// exception that names it. Stop is the server's graceful stop, bounded by its own ShutdownTimeout.
/// </summary>
internal sealed class TalkServerService(
    TalkServerOptions options, string? journalPath, MessageOutputFormat format, ILoggerFactory loggers,
    IHostApplicationLifetime lifetime, IMeterFactory? meters, ISystemdNotifier? systemd) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private MessageOutput? _output;
    private SqliteMessageJournal? _journal;
    private TalkServer? _server;
    private Task? _running;
    private int _disposed;

    /// <summary>Serving: completes when the server has stopped, faulted if it failed while running.</summary>
    public Task Running => _running ?? Task.CompletedTask;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // With a journal, the journal is the record: a stdout that stops reading must never stall receiving, storing
        // or acknowledging, so its lines are skipped (and counted) past the buffer. Without one, stdout is the only
        // record: connections wait for it instead (docs/RELIABILITY.md).
        _output = new MessageOutput(StandardOutput.Open(), new MessageOutputOptions
        {
            Format = format,
            WhenBehind = journalPath is null ? OutputBehind.Wait : OutputBehind.Skip,
            LoggerFactory = loggers,
            MeterFactory = meters,
        });
        _journal = journalPath is null ? null : SqliteMessageJournal.Open(journalPath,
            new JournalOptions { Durability = options.Acknowledge ? JournalDurability.Full : JournalDurability.Normal }, loggers);
        options.Journal = _journal;
        options.MeterFactory ??= meters;
        _server = new TalkServer(options, _output, loggers);
        await _server.StartAsync(cancellationToken).ConfigureAwait(false);
        _running = ServeAsync(_server);
        if (systemd is { IsEnabled: true })
        {
            // After StartAsync: the listeners are bound, so a client told "ready" can connect.
            lifetime.ApplicationStarted.Register(() => systemd.Notify(ServiceState.Ready));
            lifetime.ApplicationStopping.Register(() => systemd.Notify(ServiceState.Stopping));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Running.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Reported by the command from Running, once, as one line; the host must not log it with a stack trace.
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The container disposes it twice (as itself and as the hosted service it also is).
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // The server first (connections still appending finish), then the journal, then the output (flushed last).
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        if (_journal is not null)
        {
            await _journal.DisposeAsync().ConfigureAwait(false);
        }

        if (_output is not null)
        {
            await _output.DisposeAsync().ConfigureAwait(false);
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
            lifetime.StopApplication(); // a server that stops on its own (an accept loop died) stops the host too
        }
    }
}
