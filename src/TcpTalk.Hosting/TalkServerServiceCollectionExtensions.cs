using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TcpTalk.Messages;

namespace TcpTalk.Hosting;

/// <summary>Registers a TcpTalk server in a .NET Generic Host.</summary>
public static class TalkServerServiceCollectionExtensions
{
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Runs a TcpTalk server as a hosted service with the settings of <paramref name="configuration"/> (its
    /// <c>Server</c>, <c>Journal</c> and <c>Tls</c> sections: <c>builder.Configuration.GetSection("TcpTalk")</c>),
    /// validated when the host starts: a value that cannot be used fails the start with an
    /// <see cref="OptionsValidationException"/> naming its key (<c>TcpTalk:Server:Port must be between 0 and 65535, not 70000</c>).
    /// Received messages go to the registered <see cref="IMessageSink"/> (none registered: they are only journalled).
    /// </summary>
    public static IServiceCollection AddTalkServer(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        string path = configuration is IConfigurationSection section ? section.Path : "";
        return services.AddTalkServer(settings => settings.BindFrom(configuration, []), new SettingKeyNames(path), configuration);
    }

    /// <summary>
    /// Runs a TcpTalk server as a hosted service with settings made in code, validated when the host starts (see
    /// <see cref="AddTalkServer(IServiceCollection, IConfiguration)"/>).
    /// </summary>
    public static IServiceCollection AddTalkServer(this IServiceCollection services, Action<TalkServerSettings> configure) =>
        services.AddTalkServer(configure, SettingKeyNames.Root, configuration: null);

    /// <summary>
    /// Integrates with the service manager that started the process, if any: under systemd (<c>Type=notify</c>)
    /// READY=1 once every listener is bound, STOPPING=1 when the stop begins, and logs in the journal's format; as a
    /// Windows service, answers the service control manager (named <paramref name="windowsServiceName"/>). Also sends
    /// the notifications to <c>NOTIFY_SOCKET</c> when that is set without systemd as the parent (<c>systemd-run --scope</c>,
    /// a supervisor speaking the protocol). Outside a service manager it changes nothing.
    /// </summary>
    public static IServiceCollection AddTalkServerServiceManagers(this IServiceCollection services, string windowsServiceName = "TcpTalk")
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSystemd();
        services.AddWindowsService(o => o.ServiceName = windowsServiceName);
        if (OperatingSystem.IsLinux() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            // AddSystemd registers the notifier only when systemd is the parent process; NOTIFY_SOCKET is what
            // sd_notify(3) itself looks at.
            services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        }

        return services;
    }

    /// <summary>
    /// Reloads the settings of the server <c>AddTalkServer</c> registered while it serves: on SIGHUP, when one of
    /// <see cref="TalkServerReloadOptions.ConfigurationFiles"/> changes, and when its configuration signals a change
    /// (a JSON file added with <c>reloadOnChange: true</c>). New connections get the new access control, limits,
    /// timeouts, greeting and certificate; open ones are not disturbed; a value that cannot be used is refused with one
    /// line naming its key (<see cref="TalkServerService.Reload"/>). Without it, the settings are read once, and only
    /// the certificate files are watched (a renewed certificate is always picked up).
    /// </summary>
    public static IServiceCollection AddTalkServerReload(this IServiceCollection services, Action<TalkServerReloadOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new TalkServerReloadOptions();
        configure?.Invoke(options);
        // The logger filters are read again at each applied reload, before it is logged (LogFilterReloadSignal).
        var logFilters = new LogFilterReloadSignal();
        services.AddSingleton<IOptionsChangeTokenSource<LoggerFilterOptions>>(logFilters);
        services.AddHostedService(s => new TalkServerReloader(
            s.GetRequiredService<TalkServerService>(),
            s.GetRequiredService<TalkServerSettingsSource>(),
            options,
            logFilters,
            s.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        return services;
    }

    private static IServiceCollection AddTalkServer(this IServiceCollection services, Action<TalkServerSettings> configure, SettingKeyNames keyNames,
        IConfiguration? configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.TryAddSingleton(new TalkServerSettingsSource(configuration, configure));
        services.AddOptions<TalkServerSettings>().Configure(configure).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TalkServerSettings>>(s => new TalkServerSettingsValidator(s.GetService<ISettingNames>() ?? keyNames));
        services.TryAddSingleton(s => new TalkServerService(
            s.GetRequiredService<IOptions<TalkServerSettings>>().Value,
            s.GetService<IMessageSink>() ?? MessageSinks.None,
            s.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance,
            s.GetRequiredService<IHostApplicationLifetime>(),
            s.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            // systemd's own lifetime sends READY=1 and STOPPING=1 itself, after every hosted service has started.
            s.GetService<IHostLifetime>() is SystemdLifetime ? null : s.GetService<ISystemdNotifier>(),
            s.GetService<ISettingNames>() ?? keyNames));
        services.AddHostedService(s => s.GetRequiredService<TalkServerService>());

        // The server bounds its own stop with its ShutdownTimeout: the host must not cut it shorter (its default is
        // 30 s), so it waits at least that long plus a margin for the journal's last commit. Read from the settings
        // unvalidated: a bad value fails the start through the validator, not here.
        services.Configure<HostOptions>(host =>
        {
            var settings = new TalkServerSettings();
            configure(settings);
            var stop = settings.Server.ToOptions().ShutdownTimeout;
            if (stop >= TimeSpan.Zero && stop <= TimeSpan.FromHours(1) && host.ShutdownTimeout != Timeout.InfiniteTimeSpan
                && host.ShutdownTimeout < stop + ShutdownMargin)
            {
                host.ShutdownTimeout = stop + ShutdownMargin;
            }
        });
        return services;
    }
}
