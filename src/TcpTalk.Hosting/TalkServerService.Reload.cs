using Microsoft.Extensions.Logging;
using TcpTalk.Protocol;
using TcpTalk.Server;

namespace TcpTalk.Hosting;

/// <summary>The service's changes while serving: new settings (<see cref="Reload"/>) and certificate rotation.</summary>
public sealed partial class TalkServerService
{
    private static readonly TimeSpan CertificateDebounce = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan CertificatePoll = TimeSpan.FromSeconds(5);

    private readonly Lock _reloading = new();
    private readonly List<ServerTlsOptions> _retiredTls = []; // open connections may still use them: disposed last
    private FileChangeWatcher? _certificateWatch;
    private ILogger? _log;

    private ILogger Log => _log ??= _loggers.CreateLogger("TcpTalk.Hosting");

    /// <summary>
    /// Applies <paramref name="next"/> to the running server: connections accepted from now on get its access control,
    /// limits, timeouts, greeting, TLS certificate and whatever else the server reads per connection; open ones are not
    /// disturbed. Settings that cannot change while serving (listeners, framing, journal, admin endpoint: see
    /// <see cref="SettingReload.RestartNeeded"/>) keep their old values, with one Warning line saying a restart is
    /// needed. Settings that cannot be used are refused whole, with one Error line naming the key; the old ones stay
    /// in force. Logs <c>Configuration reloaded (N changes: ...)</c> when applied. Thread-safe; before start and after
    /// the stop began it changes nothing.
    /// </summary>
    public SettingReload Reload(TalkServerSettings next) => ReloadCounting(next, []);

    /// <summary><see cref="Reload"/>, counting <paramref name="otherChanges"/> (the host's own keys, such as log levels) among the changes logged.</summary>
    internal SettingReload ReloadCounting(TalkServerSettings next, IReadOnlyList<string> otherChanges)
    {
        ArgumentNullException.ThrowIfNull(next);
        lock (_reloading)
        {
            if (_server is not { } server || _running is not { IsCompleted: false } || _stop.IsCancellationRequested)
            {
                return SettingReload.Refuse("the server is not serving");
            }

            if (next.FindProblems(_names) is [var problem, ..])
            {
                return Refused($"{_names.Name(problem.Key)} {problem.Problem}");
            }

            var changed = SettingChanges.Between(_settings, next);
            var restart = changed.Where(SettingChanges.NeedsRestart).ToList();
            var live = changed.Where(k => !SettingChanges.NeedsRestart(k)).Concat(otherChanges).ToList();

            // What cannot change keeps its value in force: copied into the new settings, so they describe what serves.
            var current = server.Options;
            var options = next.Server.ToOptions();
            options.CopyRestartOnlyFrom(current);
            (next.Journal, next.Admin) = (_settings.Journal, _settings.Admin);

            ServerTlsOptions? tls = current.Tls;
            bool newTls = live.Any(SettingChanges.IsTls);
            if (newTls)
            {
                try
                {
                    tls = next.Tls.LoadOptions(_names);
                }
                catch (TalkSettingsException e)
                {
                    return Refused(e.Message);
                }
            }

            options.Tls = tls;
            try
            {
                server.Reconfigure(options);
            }
            catch (ArgumentException e)
            {
                if (newTls)
                {
                    TlsSettings.DisposeCertificates(tls);
                }

                return Refused(e.Message);
            }

            if (newTls)
            {
                _retiredTls.Add(_tls!);
                _tls = tls;
            }

            if (restart.Count > 0)
            {
                HostingLog.RestartNeeded(Log, string.Join(", ", restart.Select(_names.Name)));
            }

            _settings = next;
            HostingLog.ConfigurationReloaded(Log, live.Count, live.Count == 0 ? "" : ": " + string.Join(", ", live));
            if (newTls)
            {
                LogCertificate(tls);
                WatchCertificate();
            }

            return new SettingReload(true, live, restart, null);
        }
    }

    private SettingReload Refused(string problem)
    {
        HostingLog.ConfigurationRefused(Log, problem);
        return SettingReload.Refuse(problem);
    }

    /// <summary>
    /// Reads the certificate files of the settings in force again, and serves new handshakes with them when they hold
    /// another certificate. A file that is half-written or does not match its key is a Warning: the old certificate
    /// stays in use, and the next change of the files tries again.
    /// </summary>
    /// <returns>Whether a new certificate is in use now.</returns>
    public bool ReloadCertificate()
    {
        lock (_reloading)
        {
            // Also while the start binds: the server takes new options from its construction on.
            if (_server is not { } server || _running is { IsCompleted: true } || _stop.IsCancellationRequested || _settings.Tls.Certificate is null)
            {
                return false;
            }

            ServerTlsOptions fresh;
            try
            {
                fresh = _settings.Tls.LoadOptions(_names)!; // not null: the settings name a certificate
            }
            catch (TalkSettingsException e)
            {
                HostingLog.CertificateNotReloaded(Log, e.Message);
                return false;
            }

            var current = server.Options;
            if (current.Tls?.Certificate is { } old && old.RawDataMemory.Span.SequenceEqual(fresh.Certificate!.RawDataMemory.Span))
            {
                TlsSettings.DisposeCertificates(fresh); // touched, not renewed
                return false;
            }

            // The options in force with the new certificate: nothing else changes, so this Reconfigure cannot be refused.
            current.Tls = fresh;
            server.Reconfigure(current);
            _retiredTls.Add(_tls!);
            _tls = fresh;
            LogCertificate(fresh);
            return true;
        }
    }

    private void LogCertificate(ServerTlsOptions? tls)
    {
        if (tls?.Certificate is { } certificate)
        {
            HostingLog.CertificateReloaded(Log, CertificateFingerprint.Describe(certificate), CertificateFingerprint.FormatSha256(certificate), certificate.NotAfter.ToUniversalTime());
        }
    }

    /// <summary>Watches the certificate and key files of the settings in force (again, when a reload named others).</summary>
    private void WatchCertificate()
    {
        StopWatching();
        if (_settings.Tls.Certificate is not { } certificate)
        {
            return;
        }

        string[] files = _settings.Tls.Key is { } key ? [certificate, key] : [certificate];
        var time = _server?.Options.TimeProvider ?? TimeProvider.System;
        _certificateWatch = new FileChangeWatcher(files, () => ReloadCertificate(), time, CertificateDebounce, CertificatePoll, Log);
    }

    private void StopWatching()
    {
        Interlocked.Exchange(ref _certificateWatch, null)?.Dispose();
    }
}
