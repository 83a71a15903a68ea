using System.Net;
using System.Text.RegularExpressions;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>Starts the real <c>tcptalk</c> built next to the tests, as users run it.</summary>
public static partial class Tcptalk
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "tcptalk.dll");

    public static RunningProcess Start(IEnumerable<string> arguments, string? stdin = null, IDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        RunningProcess.Start("dotnet", [Dll, .. arguments], stdin, environment, workingDirectory: workingDirectory);

    /// <summary>Runs <c>tcptalk</c> to completion and returns exit code, stdout and stderr lines.</summary>
    public static async Task<(int Code, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> RunAsync(
        IEnumerable<string> arguments, string? stdin = "", TimeSpan? timeout = null)
    {
        await using var process = Start(arguments, stdin);
        int code = await process.WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(30));
        return (code, process.Stdout, process.Stderr);
    }

    /// <summary>
    /// Starts <c>tcptalk serve</c> with <paramref name="arguments"/> (default: <c>--listen 127.0.0.1:0</c>) and waits
    /// until it prints its bound endpoints.
    /// </summary>
    public static async Task<ServeProcess> ServeAsync(params string[] arguments)
    {
        string[] args = arguments.Any(a => a is "--listen" or "-l" or "--port" or "-p") ? arguments : ["--listen", "127.0.0.1:0", .. arguments];
        // Tests run in parallel: each gets no journal unless it names its own.
        args = args.Contains("--journal") ? args : [.. args, "--no-journal"];
        return await ListeningAsync(Start(["serve", .. args]));
    }

    /// <summary>
    /// Waits until <paramref name="process"/>, a <c>tcptalk serve</c> started some other way (inside a namespace,
    /// say, through <c>exec</c> so that its pid is the server's), prints its bound endpoint. Disposes it on failure.
    /// </summary>
    public static async Task<ServeProcess> ListeningAsync(RunningProcess process)
    {
        try
        {
            string line = await process.WaitForLineAsync(l => l.Contains("Listening on", StringComparison.Ordinal), stderr: true);
            var match = PortPattern().Match(line);
            return new ServeProcess(process, int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    [GeneratedRegex(@"Listening on \S*:(\d+)")]
    private static partial Regex PortPattern();
}

/// <summary>A running <c>tcptalk serve</c> and the port it bound.</summary>
public sealed class ServeProcess(RunningProcess process, int port) : IAsyncDisposable
{
    public RunningProcess Process { get; } = process;

    public int Port { get; } = port;

    public IPEndPoint Loopback => new(IPAddress.Loopback, Port);

    /// <summary>Stops the server with SIGTERM and returns its exit code.</summary>
    public Task<int> StopAsync()
    {
        Process.Signal("TERM");
        return Process.WaitForExitAsync(TimeSpan.FromSeconds(20));
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
