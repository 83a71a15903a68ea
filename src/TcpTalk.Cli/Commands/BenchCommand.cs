using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Spectre.Console;
using TcpTalk.Cli.Bench;
using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk bench HOST[:PORT]</c>: a load generator for measuring a server, modelled on redis-benchmark and counting
/// as shared/bench/tcpload does (session, stream and hold mode).
/// </summary>
internal static class BenchCommand
{
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromSeconds(10);

    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var target = new Argument<string>("host[:port]")
        {
            Description = "Server to load: localhost, 127.0.0.1:9000, [::1]:9000 (port 12345 when not given)",
        };
        var mode = new Option<BenchMode>("--mode", "-m")
        {
            Description = "session: connect, greeting, one message, close, again; stream: messages back to back on each connection; hold: keep connections open",
            DefaultValueFactory = _ => BenchMode.Session,
            CustomParser = ParseMode,
            HelpName = "session|stream|hold",
        };
        var connections = new Option<int>("--connections", "-c")
        {
            Description = "Concurrent connections (session: slots, each running one session after another)",
            DefaultValueFactory = _ => 64,
            HelpName = "n",
        };
        var duration = CommonOptions.Duration("--duration", "Load window; default 10s unless --messages is given", DefaultDuration);
        duration.DefaultValueFactory = null;
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
        var timeout = CommonOptions.Duration("--timeout", "Time allowed for each step of a connection (connect, greeting, a write, the server's close) before it counts as a timeout", TimeSpan.FromSeconds(10));
        var json = new Option<bool>("--json")
        {
            Description = "Print the figures as one JSON object (rates, latency percentiles in microseconds, counts, errors by kind) instead of the table",
        };
        var tls = new ClientTlsFlags();

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
        command.Add(messages);
        command.Add(messageBytes);
        command.Add(timeout);
        command.Add(json);
        command.Add(common.Framing);
        tls.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            if (!HostAndPort.TryParse(result.GetValue(target), HostAndPort.DefaultPort, out var server, out string? error))
            {
                throw new UserErrorException(ExitCode.Usage, error!);
            }

            var benchMode = result.GetValue(mode);
            long? messageCount = result.GetValue(messages);
            TimeSpan? window = result.GetResult(duration) is { Implicit: false } ? result.GetValue(duration) : null;
            if (messageCount is not null && benchMode == BenchMode.Hold)
            {
                throw new UserErrorException(ExitCode.Usage, "--messages is for session and stream mode; hold mode runs for --duration");
            }

            var request = new Request(server, benchMode, result.GetValue(connections), window ?? (messageCount is null ? DefaultDuration : null),
                messageCount, result.GetValue(messageBytes), result.GetValue(common.Framing), result.GetValue(timeout), tls.Load(result), result.GetValue(json));
            return await RunAsync(request, shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private sealed record Request(HostAndPort Server, BenchMode Mode, int Connections, TimeSpan? Duration, long? Messages, int MessageBytes,
        FramingMode Framing, TimeSpan Timeout, ClientTlsOptions? Tls, bool Json);

    private static async Task<int> RunAsync(Request request, CancellationToken cancel)
    {
        if (request.Tls is { Insecure: true })
        {
            await Console.Error.WriteLineAsync(ClientTlsFlags.InsecureWarning).ConfigureAwait(false);
        }

        // One connection first, as 'send' makes it: an unknown host, a refusing server, an untrusted certificate or a
        // server that does not greet stop here with send's one-line error and exit code, before any load. It also
        // picks the address (and, over TLS, the certificate) every load connection then uses.
        var probeOptions = new TalkClientOptions
        {
            Framing = request.Framing,
            ConnectTimeout = request.Timeout,
            ResponseTimeout = request.Timeout,
            Tls = request.Tls,
        };
        System.Net.IPEndPoint address;
        byte[]? certificate = null;
        await using (var probe = await TalkClient.ConnectAsync(request.Server.Host, request.Server.Port, probeOptions, cancel).ConfigureAwait(false))
        {
            address = probe.RemoteEndPoint;
            certificate = probe.ServerCertificate?.RawData;
            await probe.CompleteAsync(cancel).ConfigureAwait(false);
        }

        var options = new BenchOptions
        {
            Target = address,
            Host = request.Server.Host,
            Mode = request.Mode,
            Connections = request.Connections,
            Duration = request.Duration,
            Messages = request.Messages,
            MessageBytes = request.MessageBytes,
            Framing = request.Framing,
            Timeout = request.Timeout,
            Tls = request.Tls is null ? null : LoadTls(request.Tls, request.Server.Host, certificate),
        };

        var run = new BenchRun(options);
        var running = run.RunAsync(cancel);
        bool live = !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        var progress = new BenchProgress(run);
        await progress.ShowAsync(running, live ? AnsiConsole.Console : null, live ? null : Console.Error).ConfigureAwait(false);
        var result = await running.ConfigureAwait(false);

        if (request.Json)
        {
            Console.Out.WriteLine(BenchReport.ToJson(result));
        }
        else
        {
            AnsiConsole.Write(BenchReport.ToTable(result));
        }

        Console.Out.Flush();
        return (int)(result.Interrupted ? ExitCode.Interrupted : ExitCode.Success);
    }

    /// <summary>
    /// TLS for the load connections: the probe connection checked the server's certificate the way the flags say, so
    /// each load connection accepts exactly that certificate (or anything with --tls-insecure).
    /// </summary>
    private static SslClientAuthenticationOptions LoadTls(ClientTlsOptions tls, string host, byte[]? probed) => new()
    {
        TargetHost = tls.TargetHost ?? host,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        ClientCertificates = tls.ClientCertificate is null ? null : [tls.ClientCertificate],
        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            tls.Insecure || (probed is not null && certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(probed)),
    };

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

    private static void Range(OptionResult result, string name, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max}, not {value}"));
        }
    }
}
