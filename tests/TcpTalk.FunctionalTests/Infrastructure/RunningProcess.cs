using System.Diagnostics;
using System.Text;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>A real child process whose stdout and stderr lines are collected as they arrive.</summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _stdout = [];
    private readonly List<string> _stderr = [];
    private readonly SemaphoreSlim _lineArrived = new(0, int.MaxValue);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;

    private RunningProcess(Process process)
    {
        _process = process;
        _stdoutPump = PumpAsync(process.StandardOutput, _stdout);
        _stderrPump = PumpAsync(process.StandardError, _stderr);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public StreamWriter Stdin => _process.StandardInput;

    public IReadOnlyList<string> Stdout
    {
        get
        {
            lock (_stdout)
            {
                return [.. _stdout];
            }
        }
    }

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (_stderr)
            {
                return [.. _stderr];
            }
        }
    }

    public static RunningProcess Start(string fileName, IEnumerable<string> arguments, string? stdinText = null,
        IDictionary<string, string>? environment = null, Encoding? stdinEncoding = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory ?? "",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            StandardInputEncoding = stdinEncoding ?? new UTF8Encoding(false),
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {fileName}");
        var running = new RunningProcess(process);
        if (stdinText is not null)
        {
            process.StandardInput.Write(stdinText);
            process.StandardInput.Close();
        }

        return running;
    }

    /// <summary>Waits until some line of stdout (or stderr) matches, and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, bool stderr = false, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var line = (stderr ? Stderr : Stdout).FirstOrDefault(match);
            if (line is not null)
            {
                return line;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no matching line on {(stderr ? "stderr" : "stdout")} in time. stdout: [{string.Join(" | ", Stdout)}] stderr: [{string.Join(" | ", Stderr)}]");
            }

            await _lineArrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Sends a POSIX signal (TERM, INT, KILL) to this process only.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill!.WaitForExit(5000);
    }

    /// <summary>Waits for exit (at most <paramref name="timeout"/>), drains output, and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"process {_process.Id} did not exit in time. stdout: [{string.Join(" | ", Stdout)}] stderr: [{string.Join(" | ", Stderr)}]");
        }

        await Task.WhenAll(_stdoutPump, _stderrPump).WaitAsync(TimeSpan.FromSeconds(10));
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        _lineArrived.Dispose();
    }

    private async Task PumpAsync(StreamReader reader, List<string> lines)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (lines)
            {
                lines.Add(line);
            }

            _lineArrived.Release();
        }
    }
}
