using System.Diagnostics;

namespace TcpTalk.TestSupport;

/// <summary>
/// A helper program built beside the tests (tests/TcpTalk.Spool.Appender, tests/TcpTalk.Journal.LockHolder) run as a
/// second process: its stdout read line by line, its stdin closed to stop it, or killed (SIGKILL on Unix).
/// </summary>
internal sealed class HelperProcess : IDisposable
{
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(20);
    private readonly Process _process;

    private HelperProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Starts <paramref name="dll"/> (a file name beside the tests) with <paramref name="arguments"/>.</summary>
    public static HelperProcess Start(string dll, params string[] arguments)
    {
        string helper = Path.Combine(AppContext.BaseDirectory, dll);
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(helper);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return new HelperProcess(Process.Start(start)!);
    }

    public async Task<string> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(HelperTimeout);
        return await _process.StandardOutput.ReadLineAsync(timeout.Token) ?? "(helper exited without a word)";
    }

    public async Task<int> StopAsync()
    {
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(HelperTimeout);
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL (on Unix), then waits for the exit.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(HelperTimeout);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        _process.Dispose();
    }
}

