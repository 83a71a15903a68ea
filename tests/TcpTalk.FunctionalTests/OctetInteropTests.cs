using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>serve --framing octet</c> against the real octet-counting senders (RFC 6587 3.4.1): util-linux
/// <c>logger --tcp --octet-count</c> and rsyslog's <c>omfwd</c> with <c>TCP_Framing="octet-counted"</c>. Every message
/// must arrive whole: one output line each, nothing split, nothing joined, the length header never in the text.
/// </summary>
public class OctetInteropTests
{
    [LoggerOctetFact]
    public async Task LoggerOctetCountedMessagesArriveWhole()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "octet");
        string port = server.Port.ToString(CultureInfo.InvariantCulture);
        string longText = "long " + new string('y', 3000);
        await using (var logger = RunningProcess.Start("logger",
            ["--tcp", "--octet-count", "-n", "127.0.0.1", "-P", port, "-t", "tcptalk-test", "--size", "8192"],
            $"first line from logger\nsecond  line, two spaces\n{longText}\n"))
        {
            Assert.Equal(0, await logger.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }

        await server.Process.WaitForLineAsync(l => l.EndsWith(longText, StringComparison.Ordinal));
        var texts = server.Process.Stdout.Select(PrefixedPeerTests.Text).ToList();
        Assert.Equal(3, texts.Count);
        // <PRI>, then logger's header (RFC 5424 or 3164 by version), then exactly the line: nothing split or joined.
        Assert.All(texts, t => Assert.Matches(@"^<13>.*tcptalk-test", t));
        Assert.EndsWith(" first line from logger", texts[0], StringComparison.Ordinal);
        Assert.EndsWith(" second  line, two spaces", texts[1], StringComparison.Ordinal);
        Assert.EndsWith(" " + longText, texts[2], StringComparison.Ordinal);
    }

    [RsyslogFact]
    public async Task RsyslogOmfwdOctetCountedForwardingArrivesWhole()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "octet");
        string dir = Directory.CreateTempSubdirectory("tcptalk-rsyslog-").FullName;
        try
        {
            int input = FreePort.Get();
            string config = Path.Combine(dir, "rsyslog.conf");
            // No imuxsock (/dev/log stays untouched), no other rule: only what arrives on the test's imtcp is forwarded.
            File.WriteAllText(config, $"""
                global(workDirectory="{dir}" maxMessageSize="64k")
                module(load="imtcp")
                input(type="imtcp" address="127.0.0.1" port="{input}" ruleset="forward")
                ruleset(name="forward") {"{"}
                  action(type="omfwd" target="127.0.0.1" port="{server.Port}" protocol="tcp" TCP_Framing="octet-counted")
                {"}"}
                """);
            await using var rsyslog = RunningProcess.Start("rsyslogd", ["-n", "-f", config, "-i", Path.Combine(dir, "rsyslogd.pid")]);
            using var feed = await ConnectWhenListeningAsync(input, rsyslog);

            string longText = "long " + new string('z', 5000);
            string[] texts = ["first message", "second  with  spaces and 12 digits 345", longText];
            var lines = new StringBuilder();
            foreach (string text in texts)
            {
                lines.Append("<13>Dec  2 03:00:00 testhost tcptalk-test: ").Append(text).Append('\n');
            }

            await feed.SendAsync(Encoding.ASCII.GetBytes(lines.ToString()), SocketFlags.None);
            feed.Shutdown(SocketShutdown.Send);

            await server.Process.WaitForLineAsync(l => l.EndsWith(longText, StringComparison.Ordinal), timeout: TimeSpan.FromSeconds(30));
            var received = server.Process.Stdout.Select(PrefixedPeerTests.Text).ToList();
            Assert.Equal(texts.Length, received.Count);
            for (int i = 0; i < texts.Length; i++)
            {
                Assert.StartsWith("<13>", received[i], StringComparison.Ordinal);
                Assert.EndsWith("tcptalk-test: " + texts[i], received[i], StringComparison.Ordinal);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Connects to rsyslog's imtcp once it listens (bounded: 20 s), failing early if rsyslogd exits.</summary>
    private static async Task<Socket> ConnectWhenListeningAsync(int port, RunningProcess rsyslog)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return socket;
            }
            catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(20) && !rsyslog.HasExited)
            {
                socket.Dispose();
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                socket.Dispose();
                throw new TimeoutException($"rsyslogd did not listen on {port} (exited: {rsyslog.HasExited}); stderr: [{string.Join(" | ", rsyslog.Stderr)}]");
            }
        }
    }
}

/// <summary>Runs when util-linux <c>logger</c> is installed and has <c>--octet-count</c>; skipped with the reason otherwise.</summary>
public sealed class LoggerOctetFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_missing = new(() => ToolProbe.HelpMentions("logger", "--octet-count"));

    public LoggerOctetFactAttribute()
    {
        if (s_missing.Value is { } missing)
        {
            Skip = missing;
        }
    }
}

/// <summary>Runs when <c>rsyslogd</c> is installed (Debian: <c>apt-get install rsyslog</c>, .ci/run does); skipped otherwise.</summary>
public sealed class RsyslogFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_missing = new(() => ToolProbe.HelpMentions("rsyslogd", "-v", versionFlag: true));

    public RsyslogFactAttribute()
    {
        if (s_missing.Value is { } missing)
        {
            Skip = missing;
        }
    }
}

internal static class ToolProbe
{
    /// <summary>Null when <paramref name="tool"/> runs and its help (or version) mentions <paramref name="text"/>; else why not.</summary>
    public static string? HelpMentions(string tool, string text, bool versionFlag = false)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(tool, versionFlag ? ["-v"] : ["--help"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return $"{tool} did not answer {(versionFlag ? "-v" : "--help")} within 10 s";
            }

            return versionFlag || (output.Result + errors.Result).Contains(text, StringComparison.Ordinal)
                ? null
                : $"the installed {tool} has no {text}";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return $"{tool} is not installed";
        }
    }
}
