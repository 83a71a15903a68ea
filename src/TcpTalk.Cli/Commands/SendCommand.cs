using System.CommandLine;
using System.Security.Authentication;
using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary><c>tcptalk send HOST[:PORT] [MESSAGE...]</c>: connect, print the greeting, send messages, close.</summary>
internal static class SendCommand
{
    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var target = new Argument<string>("host[:port]")
        {
            Description = "Server to talk to: localhost, example.org:9000, 192.0.2.7, [::1]:9000 (port 12345 when not given)",
        };
        var messages = new Argument<string[]>("message")
        {
            Description = "Messages to send, one frame each; when none are given, each line of stdin is one message",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var connectTimeout = CommonOptions.Duration("--connect-timeout", "Time allowed to resolve the host and connect", TimeSpan.FromSeconds(5));
        var timeout = CommonOptions.Duration("--timeout", "Time allowed for the greeting, and for the server to close after the last message", TimeSpan.FromSeconds(10));

        var ack = new Option<bool>("--ack")
        {
            Description = "Expect the server (serve --ack) to acknowledge every message once stored; exit 9 if any is not",
        };
        var ackTimeout = CommonOptions.Duration("--ack-timeout", "With --ack: how long to wait for the outstanding acknowledgements after the last message", TimeSpan.FromSeconds(10));

        var tls = new ClientTlsFlags();

        var command = new Command("send", "Connect to a server, print its greeting, send messages, and close");
        command.Add(target);
        command.Add(messages);
        command.Add(connectTimeout);
        command.Add(timeout);
        command.Add(ack);
        command.Add(ackTimeout);
        tls.AddTo(command);
        common.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            // Without this, an unknown --option would be sent as a message; after "--" anything is a message.
            var unknown = result.Tokens.TakeWhile(t => t.Type != System.CommandLine.Parsing.TokenType.DoubleDash)
                .FirstOrDefault(t => t.Type == System.CommandLine.Parsing.TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-');
            if (unknown is not null)
            {
                throw new UserErrorException(ExitCode.Usage, UsageErrors.UnknownOption(unknown.Value, "to send a message that starts with '-', put it after --", UsageErrors.HelpCommand(result.CommandResult)));
            }

            if (!HostAndPort.TryParse(result.GetValue(target), HostAndPort.DefaultPort, out var server, out string? error))
            {
                throw new UserErrorException(ExitCode.Usage, error!);
            }

            bool verbose = result.GetValue(common.Verbose);
            var options = new TalkClientOptions
            {
                Framing = result.GetValue(common.Framing),
                Encoding = result.GetValue(common.Encoding)!,
                MaxMessageBytes = result.GetValue(common.MaxMessageBytes),
                ConnectTimeout = result.GetValue(connectTimeout),
                ResponseTimeout = result.GetValue(timeout),
                OnAttempt = verbose ? ReportAttempt : null,
                RequireAcknowledgements = result.GetValue(ack),
                AckTimeout = result.GetValue(ackTimeout),
                Tls = tls.Load(result),
            };
            try
            {
                options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new UserErrorException(ExitCode.Usage, e.Message, e);
            }

            return await RunAsync(server, options, result.GetValue(messages) ?? [], verbose, shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(HostAndPort server, TalkClientOptions options, string[] messages, bool verbose, CancellationToken cancel)
    {
        // Refuse unsendable arguments before connecting, so a typo costs no connection.
        var framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        for (int i = 0; i < messages.Length; i++)
        {
            if (!framer.CanCarry(options.Encoding.GetBytes(messages[i]), out string? reason))
            {
                throw new UserErrorException(ExitCode.Usage, $"message {i + 1}: {reason}");
            }
        }

        if (options.Tls is { Insecure: true })
        {
            await Console.Error.WriteLineAsync(ClientTlsFlags.InsecureWarning).ConfigureAwait(false);
        }

        await using var client = await TalkClient.ConnectAsync(server.Host, server.Port, options, cancel).ConfigureAwait(false);
        if (verbose)
        {
            await Console.Error.WriteLineAsync($"connected: {client.LocalEndPoint} -> {client.RemoteEndPoint}").ConfigureAwait(false);
            if (client.ServerCertificate is { } certificate)
            {
                await Console.Error.WriteLineAsync(
                    $"tls: {Describe(client.TlsProtocol)}, server certificate {CertificateFingerprint.Describe(certificate)} SHA256 {CertificateFingerprint.FormatSha256(certificate)}").ConfigureAwait(false);
            }
        }

        Console.Out.WriteLine(client.Greeting);
        Console.Out.Flush();

        if (messages.Length > 0)
        {
            foreach (string message in messages)
            {
                await client.SendAsync(message, cancel).ConfigureAwait(false);
            }
        }
        else
        {
            await SendStdinLinesAsync(client, framer, options, cancel).ConfigureAwait(false);
        }

        await client.CompleteAsync(cancel).ConfigureAwait(false);
        if (verbose)
        {
            await Console.Error.WriteLineAsync($"sent {client.MessagesSent} message(s); server closed the connection").ConfigureAwait(false);
            if (options.RequireAcknowledgements)
            {
                await Console.Error.WriteLineAsync($"acknowledged: {string.Join(' ', client.AcknowledgedIds)}").ConfigureAwait(false);
            }
        }

        return (int)ExitCode.Success;
    }

    private static async Task SendStdinLinesAsync(TalkClient client, MessageFramer framer, TalkClientOptions options, CancellationToken cancel)
    {
        bool interactive = !Console.IsInputRedirected;
        var stdin = Console.In;
        int lineNumber = 0;
        while (true)
        {
            if (interactive)
            {
                await Console.Error.WriteAsync("> ").ConfigureAwait(false);
            }

            string? line = await stdin.ReadLineAsync(cancel).ConfigureAwait(false);
            if (line is null)
            {
                return;
            }

            lineNumber++;
            if (!framer.CanCarry(options.Encoding.GetBytes(line), out string? reason))
            {
                throw new UserErrorException(ExitCode.Usage, $"stdin line {lineNumber}: {reason}");
            }

            await client.SendAsync(line, cancel).ConfigureAwait(false);
        }
    }

    private static string Describe(SslProtocols? protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString() ?? "TLS",
    };

    private static void ReportAttempt(ConnectAttempt attempt) =>
        Console.Error.WriteLine(attempt.Outcome is null
            ? $"connecting to {attempt.Endpoint}"
            : $"  {attempt.Endpoint}: {attempt.Outcome} after {attempt.Elapsed.TotalMilliseconds:0.0} ms");
}
