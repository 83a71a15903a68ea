using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Hosting.WindowsServices;
using Microsoft.Extensions.Logging;
using System.Diagnostics.Metrics;
using TcpTalk.Cli.Configuration;
using TcpTalk.Cli.Output;
using TcpTalk.Hosting;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Cli.Hosting;

/// <summary>
/// Runs <c>serve</c> on the .NET Generic Host as any application embedding TcpTalk.Hosting would: a lean host (no
/// default sources or providers) with <c>AddTalkServer</c> bound from the tool's layered configuration, the service
/// manager integration, reloads on SIGHUP and on a change of the configuration file (<c>AddTalkServerReload</c>),
/// and the stdout writer as the message sink. Interactively it logs one line per event on
/// stderr; under systemd in the journal's format. stdout carries messages only.
/// </summary>
internal static class ServeHost
{
    public static async Task<int> RunAsync(ServeConfiguration configuration, CancellationToken shutdown)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "tcptalk" });
        // One reloadable root for the server's settings and the log levels: SIGHUP and a change of the file read the
        // same layers again (a flag still wins), and both the server and the logger filters follow.
        var values = ServeConfigurationProvider.Build(configuration);
        ConfigureLogging(builder.Logging, values);
        builder.Services.AddTalkServerServiceManagers("TcpTalk");
        if (!WindowsServiceHelpers.IsWindowsService())
        {
            builder.Services.AddSingleton<IHostLifetime, ProcessLifetime>();
        }

        // Failures name the settings as the user gave them: by flag, or by key and where it came from.
        builder.Services.AddSingleton<ISettingNames>(configuration);
        // With a journal, the journal is the record: a stdout that stops reading must never stall receiving, storing
        // or acknowledging, so its lines are skipped (and counted) past the buffer. Without one, stdout is the only
        // record: connections wait for it instead (docs/RELIABILITY.md). The container disposes the output after the
        // service that uses it, so it is flushed last.
        builder.Services.AddSingleton<IMessageSink>(services => new MessageOutput(StandardOutput.Open(), new MessageOutputOptions
        {
            Format = configuration.Output,
            WhenBehind = configuration.Settings.Journal.Enabled ? OutputBehind.Skip : OutputBehind.Wait,
            LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
            MeterFactory = services.GetService<IMeterFactory>(),
        }));
        builder.Services.AddTalkServer(values);
        builder.Services.AddTalkServerReload(o =>
        {
            foreach (string file in configuration.Inputs.WatchedFiles) // an appsettings.json created later is read too
            {
                o.ConfigurationFiles.Add(file);
            }
        });
        // The server bounds its own stop with ShutdownTimeout, and systemd's TimeoutStopSec is the backstop.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);

        var host = builder.Build();
        try
        {
            var service = host.Services.GetRequiredService<TalkServerService>();
            var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            using var stopOnSignal = shutdown.Register(lifetime.StopApplication);
            try
            {
                await host.StartAsync(shutdown).ConfigureAwait(false);
            }
            catch (TalkSettingsException e)
            {
                throw new UserErrorException(ExitCode.Usage, e.Message, e); // a certificate file, named as the user gave it
            }

            await host.WaitForShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            await service.Running.ConfigureAwait(false); // rethrows why the server stopped, if it failed
            return (int)ExitCode.Success;
        }
        finally
        {
            // Disposes the service (server, journal, certificates), then the output (flushed last).
            await ((IAsyncDisposable)host).DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void ConfigureLogging(ILoggingBuilder logging, IConfiguration values)
    {
        // Logging:LogLevel:Default and per category, followed at each reload (ServeConfiguration has checked the levels).
        logging.SetMinimumLevel(LogLevel.Information);
        logging.AddConfiguration(values.GetSection("Logging"));

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
