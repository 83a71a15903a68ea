using Microsoft.Extensions.Logging.Abstractions;

namespace TcpTalk.Hosting.Tests;

/// <summary>The watcher behind config reloads and certificate rotation, on real files in a temporary directory.</summary>
public sealed class FileChangeWatcherTests : IDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(150);
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-watch-").FullName;
    private int _calls;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path1 => Path.Combine(_dir, "cert.pem");

    private FileChangeWatcher Watch(TimeSpan? poll = null, params string[] paths) =>
        new(paths.Length == 0 ? [Path1] : paths, () => Interlocked.Increment(ref _calls), TimeProvider.System, Debounce, poll ?? TimeSpan.FromMinutes(5), NullLogger.Instance);

    private async Task CallsBecomeAsync(int expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Volatile.Read(ref _calls) < expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{_calls} call(s), not {expected}, within 10 s");
            await Task.Delay(20);
        }

        await Task.Delay(Debounce * 3); // and no more than that
        Assert.Equal(expected, Volatile.Read(ref _calls));
    }

    [Fact]
    public async Task AFileRenamedOverTheWatchedOneIsOneChange()
    {
        File.WriteAllText(Path1, "old");
        using var watcher = Watch();
        File.WriteAllText(Path1 + ".new", "new");
        File.Move(Path1 + ".new", Path1, overwrite: true);
        await CallsBecomeAsync(1);
    }

    [Fact]
    public async Task SeveralWritesInQuickSuccessionAreOneChangeAfterTheQuietPeriod()
    {
        File.WriteAllText(Path1, "old");
        string key = Path.Combine(_dir, "cert.key");
        File.WriteAllText(key, "old key");
        using var watcher = Watch(null, Path1, key);
        File.WriteAllText(Path1, "new");
        File.AppendAllText(Path1, " and more");
        File.WriteAllText(key, "new key");
        await CallsBecomeAsync(1);

        File.WriteAllText(key, "newer key");
        await CallsBecomeAsync(2);
    }

    [Fact]
    public async Task OtherFilesInTheDirectoryAreNotChanges()
    {
        File.WriteAllText(Path1, "old");
        using var watcher = Watch();
        File.WriteAllText(Path.Combine(_dir, "unrelated.txt"), "x");
        await Task.Delay(Debounce * 4);
        Assert.Equal(0, _calls);
    }

    [Fact]
    public async Task TheIdentityFollowsASymbolicLinkPointedElsewhereAsCertbotDoes()
    {
        string first = Path.Combine(_dir, "cert1.pem");
        string second = Path.Combine(_dir, "cert2.pem");
        File.WriteAllText(first, "one");
        File.WriteAllText(second, "two");
        File.CreateSymbolicLink(Path1, first);
        string before = FileChangeWatcher.Identity(Path1);
        Assert.StartsWith(first + "|", before, StringComparison.Ordinal);

        using var watcher = Watch();
        File.CreateSymbolicLink(Path1 + ".new", second);
        File.Move(Path1 + ".new", Path1, overwrite: true);
        Assert.StartsWith(second + "|", FileChangeWatcher.Identity(Path1), StringComparison.Ordinal);
        await CallsBecomeAsync(1);
        Assert.Equal("absent", FileChangeWatcher.Identity(Path.Combine(_dir, "none")));
    }
}
