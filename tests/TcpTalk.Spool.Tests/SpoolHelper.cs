using System.Diagnostics;

namespace TcpTalk.Spool.Tests;

/// <summary>The helper process (tests/TcpTalk.Spool.Appender): holds a spool, or appends to it until killed.</summary>
internal sealed class SpoolHelper : IDisposable
{
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(20);
    private readonly Process _process;

    private SpoolHelper(Process process) => _process = process;

    public int Id => _process.Id;

    public static SpoolHelper Start(params string[] arguments)
    {
        string helper = Path.Combine(AppContext.BaseDirectory, "TcpTalk.Spool.Appender.dll");
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

        return new SpoolHelper(Process.Start(start)!);
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

/// <summary>A temporary directory for one test's spool, deleted afterwards.</summary>
internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("tcptalk-spool-").FullName;

    public string Spool => System.IO.Path.Combine(Path, "spool");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
