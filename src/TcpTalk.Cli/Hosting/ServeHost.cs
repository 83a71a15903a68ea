using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Logging;
using TcpTalk.Cli.Configuration;
using TcpTalk.Server;

namespace TcpTalk.Cli.Hosting;

/// <summary>
/// Runs <c>serve</c> on the .NET Generic Host: a lean host (no default sources or providers) with the server as its one
/// hosted service. Under systemd (<c>Type=notify</c>) it sends READY=1 once every listener is bound and STOPPING=1
/// when the stop begins, and logs in the journal's format; as a Windows service it answers the service manager.
/// Interactively it logs one line per event on stderr, as before; stdout carries messages only.
/// </summary>
internal static class ServeHost
{
    public static async Task<int> RunAsync(ServeConfiguration configuration, TalkServerOptions options, string? journalPath, CancellationToken shutdown)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "tcptalk" });
        ConfigureLogging(builder.Logging, configuration);
        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(o => o.ServiceName = "TcpTalk");
        if (!WindowsServiceHelpers.IsWindowsService())
        {
            builder.Services.AddSingleton<IHostLifetime, ProcessLifetime>();
        }

        if (OperatingSystem.IsLinux() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            // AddSystemd registers the notifier only when systemd is the parent process; NOTIFY_SOCKET is what
            // sd_notify(3) itself looks at (systemd-run --scope, a supervisor speaking the protocol, the tests).
            builder.Services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        }

        // The server bounds its own stop with ShutdownTimeout; the host must not cut it shorter (default 30 s).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton(services => new TalkServerService(options, journalPath, configuration.Settings.Server.ToOutputFormat(),
            services.GetRequiredService<ILoggerFactory>(), services.GetRequiredService<IHostApplicationLifetime>(),
            services.GetService<IMeterFactory>(), services.GetService<ISystemdNotifier>()));
        builder.Services.AddHostedService(services => services.GetRequiredService<TalkServerService>());

        var host = builder.Build();
        try
        {
            var service = host.Services.GetRequiredService<TalkServerService>();
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            using var stopOnSignal = shutdown.Register(lifetime.StopApplication);
            await host.StartAsync(shutdown).ConfigureAwait(false);
            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await service.Running.ConfigureAwait(false); // rethrows why the server stopped, if it failed
            return (int)ExitCode.Success;
        }
        finally
        {
            // Disposes the service: server, journal, then the output (flushed last).
            await ((IAsyncDisposable)host).DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging, ServeConfiguration configuration)
    {
        logging.SetMinimumLevel(configuration.DefaultLogLevel);
        foreach (var (category, level) in configuration.CategoryLogLevels)
        {
            logging.AddFilter(category, level);
        }

        // The host's own events: a failed start is reported once, as one line, by the command.
        logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.None);
        if (SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")))
        {
            logging.AddSystemdConsole(); // "<6>category[event] message": the journal adds time, unit and level
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }

        logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // logs never go to stdout
    }
}
