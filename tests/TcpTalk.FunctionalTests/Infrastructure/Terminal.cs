using System.Diagnostics;
using System.Text;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A program run on a pseudo-terminal, as a user at a terminal runs it: <c>script</c> (util-linux) gives it a pty,
/// what the test writes is typed (so <c>\x03</c> is Ctrl+C, which the terminal turns into SIGINT, and <c>\x04</c> is
/// Ctrl+D), and what the screen shows (stdout, stderr and the echo, mixed as on a screen) is collected.
/// </summary>
public sealed class Terminal : IAsyncDisposable
{
    public const string CtrlC = "\x03", CtrlD = "\x04";

    private readonly Process _process;
    private readonly StringBuilder _screen = new();
    private readonly Task _pump;

    private Terminal(Process process)
    {
        _process = process;
        _pump = PumpAsync();
    }

    /// <summary>Everything shown so far, carriage returns removed.</summary>
    public string Screen
    {
        get
        {
            lock (_screen)
            {
                return _screen.ToString().Replace("\r", "", StringComparison.Ordinal);
            }
        }
    }

    /// <summary>Starts <c>tcptalk</c> (the build next to the tests) with <paramref name="arguments"/> on a terminal.</summary>
    public static Terminal StartTcptalk(params string[] arguments)
    {
        string command = string.Join(' ', new[] { "dotnet", Tcptalk.Dll }.Concat(arguments).Select(Quote));
        var info = new ProcessStartInfo("script", ["-q", "-e", "-c", command, "/dev/null"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(false),
        };
        info.Environment["TERM"] = "xterm";
        return new Terminal(Process.Start(info) ?? throw new InvalidOperationException("could not start script"));
    }

    /// <summary>Types <paramref name="keys"/> (text, Enter as <c>\n</c>, <see cref="CtrlC"/>, <see cref="CtrlD"/>).</summary>
    public async Task TypeAsync(string keys)
    {
        await _process.StandardInput.WriteAsync(keys);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until the screen shows <paramref name="text"/> <paramref name="count"/> times.</summary>
    public async Task WaitForAsync(string text, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (Occurrences(Screen, text) < count)
        {
            if (DateTime.UtcNow > deadline || _pump.IsCompleted && Occurrences(Screen, text) < count)
            {
                throw new TimeoutException($"the screen did not show \"{text}\" ({count}x) in time; it shows:\n{Screen}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Waits for the program to exit (at most <paramref name="timeout"/>) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the program did not exit in time; the screen shows:\n{Screen}");
        }

        await _pump.WaitAsync(TimeSpan.FromSeconds(10));
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
    }

    private static int Occurrences(string screen, string text)
    {
        int count = 0;
        for (int at = screen.IndexOf(text, StringComparison.Ordinal); at >= 0; at = screen.IndexOf(text, at + text.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Quote(string argument) => "'" + argument.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private async Task PumpAsync()
    {
        var buffer = new char[4096];
        int read;
        while ((read = await _process.StandardOutput.ReadAsync(buffer)) > 0)
        {
            lock (_screen)
            {
                _screen.Append(buffer, 0, read);
            }
        }
    }
}

/// <summary>A fact that drives a program on a pseudo-terminal with <c>script</c>; skipped, with the reason, where that cannot work.</summary>
public sealed class TerminalFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Missing = new(Probe);

    public TerminalFactAttribute()
    {
        if (Missing.Value is { } reason)
        {
            Skip = reason;
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux: the pseudo-terminal comes from util-linux 'script'";
        }

        try
        {
            using var probe = Process.Start(new ProcessStartInfo("script", ["-q", "-e", "-c", "true", "/dev/null"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            probe.StandardInput.Close();
            if (!probe.WaitForExit(10_000))
            {
                probe.Kill();
                return "'script -c true' (util-linux) did not finish within 10 s: no usable pseudo-terminal";
            }

            return probe.ExitCode == 0 ? null : $"'script -c true' (util-linux) failed with exit {probe.ExitCode}: no usable pseudo-terminal";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"'script' (util-linux) is not installed: {e.Message}";
        }
    }
}
