using Microsoft.Extensions.Logging;

namespace TcpTalk.Hosting;

/// <summary>Every log message of the hosting layer (socket activation, admin endpoint, reloads, certificate rotation), with stable event ids.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(1, LogLevel.Information, "{Port} is not used: systemd passed {Count} listening socket(s) (socket activation)")]
    public static partial void PortNotUsed(ILogger logger, string port, int count);

    [LoggerMessage(100, LogLevel.Information, "Admin endpoint on http://{Endpoint} (/metrics, /healthz, /readyz)")]
    public static partial void AdminListening(ILogger logger, string endpoint);

    [LoggerMessage(110, LogLevel.Information, "Configuration reloaded ({Count} changes{Changes})")]
    public static partial void ConfigurationReloaded(ILogger logger, int count, string changes);

    [LoggerMessage(111, LogLevel.Error, "Configuration not reloaded: {Problem}; the settings in force stay")]
    public static partial void ConfigurationRefused(ILogger logger, string problem);

    [LoggerMessage(112, LogLevel.Warning, "Configuration: {Keys} cannot change while serving; restart the server to apply (the old value stays in force)")]
    public static partial void RestartNeeded(ILogger logger, string keys);

    [LoggerMessage(113, LogLevel.Information, "Reloading the configuration ({Trigger})")]
    public static partial void Reloading(ILogger logger, string trigger);

    [LoggerMessage(120, LogLevel.Information, "TLS certificate reloaded: subject {Subject}, SHA-256 fingerprint {Fingerprint}, expires {NotAfter:yyyy-MM-ddTHH:mm:ssZ}")]
    public static partial void CertificateReloaded(ILogger logger, string subject, string fingerprint, DateTime notAfter);

    [LoggerMessage(121, LogLevel.Warning, "TLS certificate not reloaded: {Problem}; the old one stays in use until the files change again")]
    public static partial void CertificateNotReloaded(ILogger logger, string problem);

    [LoggerMessage(130, LogLevel.Warning, "Watching {Path} for changes by polling every {Interval}: {Reason}")]
    public static partial void PollingOnly(ILogger logger, string path, string interval, string reason);
}
