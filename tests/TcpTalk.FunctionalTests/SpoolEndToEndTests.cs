using System.Diagnostics;
using TcpTalk.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The short version of bench/e2e-crash.sh: a producer writes numbered lines into <c>tcptalk send --spool</c> while
/// the server (<c>serve --ack</c>, SQLite journal), the client itself and the network path (a proxy process) are
/// SIGKILLed and restarted in turn; afterwards every line is in the journal at least once (the script checks with
/// <c>tcptalk messages --json</c> and exits 1 otherwise).
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class SpoolEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryLineSurvivesServerClientAndNetworkKills()
    {
        string script = Path.Combine(RepositoryRoot(), "bench", "e2e-crash.py");
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in (string[])[script, "--tcptalk", $"dotnet {Tcptalk.Dll}", "--dir", _dir, "--lines", "2000", "--rate", "100",
                     "--faults", "9", "--round-robin", "--max-gap", "0.4", "--max-down", "0.5", "--flow-timeout", "20", "--drain-timeout", "30"])
        {
            start.ArgumentList.Add(argument);
        }

        using var driver = Process.Start(start)!;
        var stdout = driver.StandardOutput.ReadToEndAsync();
        var stderr = driver.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await driver.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            driver.Kill(entireProcessTree: true);
            throw;
        }

        string printed = await stdout;
        output.WriteLine(printed);
        output.WriteLine(await stderr);
        Assert.True(driver.ExitCode == 0, $"e2e-crash.py exited {driver.ExitCode}: {printed}");
        Assert.Contains(", lost 0, ", printed, StringComparison.Ordinal);
        Assert.Matches(@"faults \d+ \(server kills [1-9]\d*, client kills [1-9]\d*, network cuts [1-9]\d*\)", printed);
    }

    private static string RepositoryRoot()
    {
        for (var at = new DirectoryInfo(AppContext.BaseDirectory); at is not null; at = at.Parent)
        {
            if (File.Exists(Path.Combine(at.FullName, "TcpTalk.slnx")))
            {
                return at.FullName;
            }
        }

        throw new InvalidOperationException($"no TcpTalk.slnx above {AppContext.BaseDirectory}");
    }
}
