using Microsoft.Extensions.Logging;
using TcpTalk.Protocol;

namespace TcpTalk.Hosting;

/// <summary>
/// Calls back once a set of files has changed and then stayed quiet for a moment: written in place, replaced by an
/// atomic rename in the same directory (certbot, editors, <c>mv new old</c>), a symbolic link pointed elsewhere,
/// created or deleted. Change notifications come from a <see cref="FileSystemWatcher"/> on each file's directory
/// (so a rename over the file is seen); a poll of each file's identity (its resolved target, length and
/// modification time) catches what notifications miss (network file systems, an inotify limit reached) and a file
/// that did not exist when watching began, in a directory where none of the files existed (within the poll interval).
/// </summary>
/// <remarks>
/// The debounce matters: a certificate and its key are two files written one after the other, and an editor may
/// write a file in several steps; the callback runs once the debounce time after the last change, never
/// concurrently with itself. A callback that fails is the callback's business: it runs again at the next change.
/// </remarks>
internal sealed class FileChangeWatcher : IDisposable
{
    /// <summary>The <see cref="Identity"/> of a path where no file is.</summary>
    internal const string AbsentIdentity = "absent";

    private readonly string[] _paths;
    private readonly Action _changed;
    private readonly TimeProvider _time;
    private readonly TimeSpan _debounce;
    private readonly List<FileSystemWatcher> _watchers = [];
    private readonly Dictionary<string, string> _identities = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ITimer _poll;
    private readonly ITimer _quiet;
    private bool _disposed;

    /// <param name="paths">The files (relative to the working directory, or absolute); they need not exist yet.</param>
    /// <param name="changed">Called on a thread-pool thread once the files changed and were quiet for <paramref name="debounce"/>.</param>
    /// <param name="time">The clock of the debounce and the poll.</param>
    /// <param name="debounce">How long the files must stay unchanged before <paramref name="changed"/> runs.</param>
    /// <param name="pollInterval">How often the files' identities are compared, whatever the notifications say.</param>
    /// <param name="logger">Says so when notifications are not available and only the poll watches.</param>
    public FileChangeWatcher(IEnumerable<string> paths, Action changed, TimeProvider time, TimeSpan debounce, TimeSpan pollInterval, ILogger logger)
    {
        _paths = [.. paths.Select(p => Path.GetFullPath(p)).Distinct(StringComparer.Ordinal)];
        _changed = changed;
        _time = time;
        _debounce = debounce;
        foreach (string path in _paths)
        {
            _identities[path] = Identity(path);
        }

        // A directory where no watched file exists yet (appsettings.json that may be created some day) is left to the
        // poll: each notification watcher is an inotify instance, a limit shared by every process of the user (128).
        foreach (var directory in _paths.GroupBy(p => Path.GetDirectoryName(p)!, StringComparer.Ordinal)
                     .Where(d => d.Any(p => _identities[p] != AbsentIdentity)))
        {
            try
            {
                var watcher = new FileSystemWatcher(directory.Key)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                    IncludeSubdirectories = false,
                };
                var names = directory.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
                FileSystemEventHandler onChange = (_, e) => { if (names.Contains(e.Name ?? "")) { Touched(); } };
                watcher.Changed += onChange;
                watcher.Created += onChange;
                watcher.Deleted += onChange;
                watcher.Renamed += (_, e) => { if (names.Contains(e.Name ?? "") || names.Contains(e.OldName ?? "")) { Touched(); } };
                watcher.Error += (_, _) => Touched(); // an overflow may have lost events: look again
                watcher.EnableRaisingEvents = true;
                _watchers.Add(watcher);
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or PlatformNotSupportedException)
            {
                HostingLog.PollingOnly(logger, directory.Key, DurationText.Format(pollInterval), e.Message);
            }
        }

        _quiet = time.CreateTimer(static state => ((FileChangeWatcher)state!).Quiet(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _poll = time.CreateTimer(static state => ((FileChangeWatcher)state!).Poll(), this, pollInterval, pollInterval);
    }

    /// <summary>The files watched, as full paths.</summary>
    public IReadOnlyList<string> Paths => _paths;

    /// <summary>A file's identity: what its path resolves to, its length and its modification time; "absent" when it is not there.</summary>
    internal static string Identity(string path)
    {
        try
        {
            var info = new FileInfo(path);
            var target = info.LinkTarget is null ? info : info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
            target.Refresh();
            return target.Exists ? $"{target.FullName}|{target.Length}|{target.LastWriteTimeUtc.Ticks}" : AbsentIdentity;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }

    private void Touched()
    {
        lock (_lock)
        {
            if (!_disposed)
            {
                _quiet.Change(_debounce, Timeout.InfiniteTimeSpan); // each change restarts the quiet period
            }
        }
    }

    private void Poll()
    {
        bool changed = false;
        lock (_lock)
        {
            foreach (string path in _paths)
            {
                changed |= Identity(path) != _identities[path];
            }
        }

        if (changed)
        {
            Touched();
        }
    }

    private void Quiet()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            // What the callback is about to see is the new baseline, so the poll does not report it again.
            foreach (string path in _paths)
            {
                _identities[path] = Identity(path);
            }

            _changed(); // under the lock: never two callbacks at once, and none after Dispose returns
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
        }

        _poll.Dispose();
        _quiet.Dispose();
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
    }
}
