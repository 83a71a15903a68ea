using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Spectre.Console;
using TcpTalk.Load;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk bench HOST[:PORT]</c>: flags to <see cref="BenchOptions"/>, <see cref="BenchRunner"/>, the report, the
/// exit code. The load generator itself is TcpTalk.Load.
/// </summary>
internal static class BenchCommand
{
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var target = new Argument<string>("host[:port]")
        {
            Description = "Server to load: localhost, 127.0.0.1:9000, [::1]:9000 (port 12345 when not given), or a unix socket: unix:/run/tcptalk.sock",
        };
        // --mode, --duration and --timeout have no DefaultValueFactory: help would show it as C# writes it (Session,
        // 00:00:10). Their descriptions name the default as the flag takes it, and the action fills it in.
        var mode = new Option<BenchMode>("--mode", "-m")
        {
            Description = "session: connect, greeting, one message, close, again; stream: messages back to back on each connection; hold: keep connections open [default: session]",
            CustomParser = ParseMode,
            HelpName = "session|stream|hold",
        };
        mode.CompletionSources.Clear();
        mode.CompletionSources.Add("session", "stream", "hold");
        var connections = new Option<int>("--connections", "-c")
        {
            Description = "Concurrent connections (session: slots, each running one session after another)",
            DefaultValueFactory = _ => 64,
            HelpName = "n",
        };
        var duration = CommonOptions.Duration("--duration", "Load window: no session or message starts after it [default: 10s, none with --messages]");
        var messages = new Option<long?>("--messages", "-n")
        {
            Description = "Stop after this many messages (session: sessions; stream: messages over all connections); with --duration, whichever comes first",
            HelpName = "n",
        };
        var messageBytes = new Option<int>("--message-bytes")
        {
            Description = $"Message size in bytes, terminator not counted ({BenchOptions.MinMessageBytes}-{BenchOptions.MaxMessageBytes}); each starts with an id, padded with 'x'",
            DefaultValueFactory = _ => 32,
            HelpName = "bytes",
        };
        var timeout = CommonOptions.Duration("--timeout", "Time allowed for each step of a connection (connect, greeting, a write, the server's close) before it counts as a timeout [default: 10s]");
        var json = new Option<bool>("--json")
        {
            Description = "Print the figures as one JSON object (rates, latency percentiles in microseconds, counts, errors by kind) instead of the table",
        };
        var proxyProtocol = new Option<int>("--proxy-protocol")
        {
            Description = "Begin each connection with a PROXY protocol header (v1 or v2) naming a made-up client of its own (10.x.y.z), to load a server that trusts this machine as its balancer (serve --trusted-proxy) [default: none]",
            CustomParser = ParseProxyProtocol,
            HelpName = "v1|v2",
        };
        proxyProtocol.CompletionSources.Clear();
        proxyProtocol.CompletionSources.Add("v1", "v2");
        var ack = new Option<bool>("--ack")
        {
            Description = "Stream mode: the server acknowledges each message (tcptalk serve --ack); keep at most --ack-window unacknowledged per connection, count acks and their latency",
        };
        var ackWindow = new Option<int>("--ack-window")
        {
            Description = "With --ack: most messages per connection sent and not yet acknowledged",
            DefaultValueFactory = _ => 1024,
            HelpName = "n",
        };
        var tls = new ClientTlsFlags();

        ackWindow.Validators.Add(r => Range(r, "--ack-window", r.GetValueOrDefault<int>(), 1, 1 << 20));
        connections.Validators.Add(r => Range(r, "--connections", r.GetValueOrDefault<int>(), 1, BenchOptions.MaxConnections));
        messageBytes.Validators.Add(r => Range(r, "--message-bytes", r.GetValueOrDefault<int>(), BenchOptions.MinMessageBytes, BenchOptions.MaxMessageBytes));
        messages.Validators.Add(r => Range(r, "--messages", r.GetValueOrDefault<long?>() ?? 0, 1, long.MaxValue / (BenchOptions.MaxMessageBytes + 1)));
        duration.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<TimeSpan>() <= TimeSpan.Zero)
            {
                r.AddError("--duration must be more than 0");
            }
        });

        var command = new Command("bench", "Load a server and measure it: sessions/s or messages/s, latency percentiles, errors (like redis-benchmark)");
        command.Add(target);
        command.Add(mode);
        command.Add(connections);
        command.Add(duration);
        command.Add(ack);
        command.Add(ackWindow);
        command.Add(messages);
        command.Add(messageBytes);
        command.Add(timeout);
        command.Add(json);
        command.Add(proxyProtocol);
        command.Add(common.Framing);
        tls.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            if (!HostAndPort.TryParse(result.GetValue(target), HostAndPort.DefaultPort, out var server, out string? error))
            {
                throw new UserErrorException(ExitCode.Usage, error!);
            }

            var benchMode = result.GetResult(mode) is null ? BenchMode.Session : result.GetValue(mode);
            long? messageCount = result.GetValue(messages);
            TimeSpan? window = result.GetResult(duration) is null ? null : result.GetValue(duration);
            if (messageCount is not null && benchMode == BenchMode.Hold)
            {
                throw new UserErrorException(ExitCode.Usage, "--messages is for session and stream mode; hold mode runs for --duration");
            }

            bool acknowledged = result.GetValue(ack);
            if (acknowledged && benchMode != BenchMode.Stream)
            {
                throw new UserErrorException(ExitCode.Usage, "--ack is for stream mode (--mode stream)");
            }

            if (result.GetResult(ackWindow) is { Implicit: false } && !acknowledged)
            {
                throw new UserErrorException(ExitCode.Usage, "--ack-window goes with --ack");
            }

            var options = new BenchOptions
            {
                Acknowledged = acknowledged,
                AckWindow = result.GetValue(ackWindow),
                Host = server.Host,
                Port = server.Port,
                Mode = benchMode,
                Connections = result.GetValue(connections),
                Duration = window ?? (messageCount is null ? DefaultDuration : null),
                Messages = messageCount,
                MessageBytes = result.GetValue(messageBytes),
                Framing = result.GetValue(common.Framing),
                Timeout = result.GetResult(timeout) is null ? DefaultTimeout : result.GetValue(timeout),
                Tls = tls.Load(result),
                ProxyProtocol = result.GetValue(proxyProtocol),
            };
            if (options.FramingProblem() is { } problem)
            {
                throw new UserErrorException(ExitCode.Usage, problem);
            }

            if (options.ProxyProtocol != 0 && server.IsUnixSocket)
            {
                throw new UserErrorException(ExitCode.Usage, "--proxy-protocol is for a TCP server: a unix socket's peers are never trusted proxies");
            }

            return await RunAsync(options, result.GetValue(json), shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchOptions options, bool json, CancellationToken cancel)
    {
        if (options.Tls is { Insecure: true })
        {
            await Console.Error.WriteLineAsync(ClientTlsFlags.InsecureWarning).ConfigureAwait(false);
        }

        // Live progress only when both streams are a terminal: a redirected stdout or stderr gets plain lines on stderr.
        var progress = !Console.IsOutputRedirected && !Console.IsErrorRedirected ? BenchProgressStyle.Live : BenchProgressStyle.Lines;
        var result = await BenchRunner.RunAsync(options, progress, Console.Error, cancel).ConfigureAwait(false);
        if (json)
        {
            Console.Out.WriteLine(BenchReport.ToJson(result));
        }
        else
        {
            BenchReport.Write(result, AnsiConsole.Console);
        }

        Console.Out.Flush();
        if (result.Acks == 0 && result.Messages > 0)
        {
            throw new UserErrorException(ExitCode.NotAcknowledged,
                $"the server acknowledged none of {result.Messages:N0} message(s) (does it acknowledge? tcptalk serve does with --ack)");
        }

        return (int)(result.Interrupted ? ExitCode.Interrupted : ExitCode.Success);
    }

    private static BenchMode ParseMode(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        switch (text.Trim().ToLowerInvariant())
        {
            case "session":
                return BenchMode.Session;
            case "stream":
                return BenchMode.Stream;
            case "hold":
                return BenchMode.Hold;
            default:
                result.AddError($"--mode must be session, stream or hold, not '{text}'");
                return default;
        }
    }

    private static int ParseProxyProtocol(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        switch (text.Trim().ToLowerInvariant())
        {
            case "v1" or "1":
                return 1;
            case "v2" or "2":
                return 2;
            default:
                result.AddError($"--proxy-protocol must be v1 or v2, not '{text}'");
                return 0;
        }
    }

    private static void Range(OptionResult result, string name, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}, not {value}"));
        }
    }
}
