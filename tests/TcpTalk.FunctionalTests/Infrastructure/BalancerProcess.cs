using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A load balancer (haproxy, nginx) started for one test: its config and pid file in a temp dir of its own, run in
/// the foreground so that the process started is the balancer itself, its output collected, and stopped by that PID
/// only (SIGTERM, then SIGKILL after a bounded wait). Used by <see cref="HaproxyFixture"/> and <see cref="NginxStreamFixture"/>.
/// </summary>
public sealed class BalancerProcess : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    private readonly RunningProcess _process;

    private BalancerProcess(string name, string directory, RunningProcess process, IPEndPoint frontend)
    {
        Name = name;
        Directory = directory;
        _process = process;
        Frontend = frontend;
    }

    /// <summary>"haproxy" or "nginx", for messages.</summary>
    public string Name { get; }

    /// <summary>The temp dir holding the config, the pid file and the logs; removed on dispose.</summary>
    public string Directory { get; }

    /// <summary>Where clients connect: 127.0.0.1 and a port that was free.</summary>
    public IPEndPoint Frontend { get; }

    /// <summary>The PID of the balancer process this fixture started (the only one it ever signals).</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the balancer wrote to stdout and stderr so far, and its error log file when it has one, for failure messages.</summary>
    public string Output
    {
        get
        {
            string log = Path.Combine(Directory, "error.log");
            string file = File.Exists(log) ? File.ReadAllText(log) : "";
            return $"{Name} stdout: [{string.Join(" | ", _process.Stdout)}] stderr: [{string.Join(" | ", _process.Stderr)}] error.log: [{file.Trim()}]";
        }
    }

    /// <summary>
    /// Writes <paramref name="config"/> (made from the temp dir and the frontend port) to <paramref name="configFile"/>
    /// in a new temp dir, starts <paramref name="executable"/> with <paramref name="arguments"/> (made from the config
    /// path and the temp dir), and waits until the frontend port is listening, at most 15 s.
    /// </summary>
    public static async Task<BalancerProcess> StartAsync(string name, string executable, string configFile,
        Func<string, int, string> config, Func<string, string, string[]> arguments)
    {
        string directory = System.IO.Directory.CreateTempSubdirectory($"tcptalk-{name}-").FullName;
        int port = FreePort.Get();
        string path = Path.Combine(directory, configFile);
        await File.WriteAllTextAsync(path, config(directory, port) + "\n"); // haproxy refuses a last line without LF
        var process = RunningProcess.Start(executable, arguments(path, directory), workingDirectory: directory);
        var balancer = new BalancerProcess(name, directory, process, new IPEndPoint(IPAddress.Loopback, port));
        try
        {
            await balancer.WaitUntilListeningAsync();
            return balancer;
        }
        catch
        {
            await balancer.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Signal("TERM");
            try
            {
                await _process.WaitForExitAsync(s_stopTimeout);
            }
            catch (TimeoutException)
            {
                // RunningProcess.DisposeAsync below kills it (and its workers) by this PID.
            }
        }

        await _process.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A log still being flushed; the temp dir is the OS's to clean then.
        }
    }

    /// <summary>
    /// Polls the kernel's table of listening sockets (/proc/net/tcp) rather than connecting: a test connection would
    /// go through to the backend and show up there as a client.
    /// </summary>
    private async Task WaitUntilListeningAsync()
    {
        var clock = Stopwatch.StartNew();
        string local = $"0100007F:{Frontend.Port:X4}";
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited at start with code {await _process.WaitForExitAsync()}. {Output}");
            }

            if (File.ReadLines("/proc/net/tcp").Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Any(fields => fields.Length > 3 && fields[1] == local && fields[3] == "0A"))
            {
                return;
            }

            if (clock.Elapsed > s_startTimeout)
            {
                throw new TimeoutException($"{Name} (pid {ProcessId.ToString(CultureInfo.InvariantCulture)}) did not listen on {Frontend} within {s_startTimeout.TotalSeconds} s. {Output}");
            }

            await Task.Delay(50);
        }
    }
}
