using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace TcpTalk.Hosting;

/// <summary>
/// Reloads the hosted server's settings (<see cref="TalkServerService.Reload"/>) on SIGHUP, when a watched
/// configuration file changes, and when the configuration itself says it changed (its reload token: a JSON file with
/// <c>reloadOnChange</c>, the CLI's layers). SIGHUP and a watched file first reload the configuration root, so a
/// configuration that cannot be read (invalid JSON, a value the CLI refuses) is refused there, with one line.
/// </summary>
internal sealed class TalkServerReloader(TalkServerService service, TalkServerSettingsSource source, TalkServerReloadOptions options,
    LogFilterReloadSignal logFilters, ILoggerFactory loggers)
    : IHostedLifecycleService, IDisposable
{
    private readonly ILogger _log = loggers.CreateLogger("TcpTalk.Hosting");
    private readonly Lock _lock = new();
    private PosixSignalRegistration? _hangup;
    private FileChangeWatcher? _files;
    private IDisposable? _tokenWatch;
    private Dictionary<string, string?> _logLevels = [];

    /// <summary>Watches from before any hosted service starts: a change made once the server listens is never missed.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (source.Configuration is { } configuration)
        {
            _logLevels = LogLevels(configuration);
            _tokenWatch = ChangeToken.OnChange(configuration.GetReloadToken, Apply);
        }

        if (options.OnHangupSignal && !OperatingSystem.IsWindows())
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // the default action would end the process
                _ = Task.Run(() => Reload("SIGHUP"));
            });
        }

        if (options.ConfigurationFiles.Count > 0)
        {
            _files = new FileChangeWatcher(options.ConfigurationFiles, () => Reload("the configuration file changed"),
                options.TimeProvider, options.Debounce, options.PollInterval, _log);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        Dispose(); // a stop has begun: no more reloads
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _hangup?.Dispose();
        _files?.Dispose();
        _tokenWatch?.Dispose();
        (_hangup, _files, _tokenWatch) = (null, null, null);
    }

    /// <summary>Reads the configuration again, then applies it; the reload token of a root applies it once it has read.</summary>
    private void Reload(string trigger)
    {
        lock (_lock)
        {
            HostingLog.Reloading(_log, trigger);
            if (source.Configuration is IConfigurationRoot root)
            {
                try
                {
                    root.Reload(); // fires the reload token: Apply
                }
#pragma warning disable CA1031 // whatever a provider throws, the server goes on with the settings in force
                catch (Exception e)
#pragma warning restore CA1031
                {
                    HostingLog.ConfigurationRefused(_log, e.Message.ReplaceLineEndings(" "));
                }

                return;
            }

            Apply();
        }
    }

    private void Apply()
    {
        lock (_lock)
        {
            // The logger filters read the reloaded configuration now, so the line below is true once it is written;
            // the levels are named so that the line counts them.
            logFilters.Signal();
            var levels = source.Configuration is { } configuration ? LogLevels(configuration) : [];
            var changed = levels.Keys.Union(_logLevels.Keys, StringComparer.OrdinalIgnoreCase)
                .Where(k => levels.GetValueOrDefault(k) != _logLevels.GetValueOrDefault(k)).Order(StringComparer.Ordinal).ToList();
            if (service.ReloadCounting(source.Read(), changed).Applied)
            {
                _logLevels = levels;
            }
        }
    }

    /// <summary>The <c>Logging:LogLevel:*</c> values of the configuration (of a root; a section has none of its own).</summary>
    private static Dictionary<string, string?> LogLevels(IConfiguration configuration) =>
        configuration.GetSection("Logging:LogLevel").AsEnumerable()
            .Where(p => p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
}
