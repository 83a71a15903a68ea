using System.CommandLine;
using System.CommandLine.Parsing;
using System.Security.Authentication;
using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary><c>tcptalk send HOST[:PORT] [MESSAGE...]</c>: connect, print the greeting, send messages, close.</summary>
internal static class SendCommand
{
    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var target = new Argument<string?>("host[:port]")
        {
            Description = "Server to talk to: localhost, example.org:9000, 192.0.2.7, [::1]:9000 (port 12345 when not given), or a unix socket: unix:/run/tcptalk.sock",
            Arity = ArgumentArity.ZeroOrOne, // none with --spool DIR --status; required otherwise (checked below)
        };
        var messages = new Argument<string[]>("message")
        {
            Description = "Messages to send, one frame each; when none are given, each line of stdin is one message (an empty line an empty one). " +
                          "On a terminal: a prompt, Enter sends, empty lines are skipped (give '' as an argument to send an empty message), Ctrl+D finishes",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var connectTimeout = Positive(CommonOptions.Duration("--connect-timeout", "Time allowed to resolve the host and connect", TimeSpan.FromSeconds(5)));
        var timeout = Positive(CommonOptions.Duration("--timeout", "Time allowed for the greeting, and for the server to close after the last message", TimeSpan.FromSeconds(10)));

        var ack = new Option<bool>("--ack")
        {
            Description = "Expect the server (serve --ack) to acknowledge every message once stored; exit 9 if any is not",
        };
        var ackTimeout = Positive(CommonOptions.Duration("--ack-timeout", "With --ack: how long to wait for the outstanding acknowledgements after the last message", TimeSpan.FromSeconds(10)));

        var tls = new ClientTlsFlags();
        var spool = new SpoolFlags();

        var command = new Command("send", "Connect to a server, print its greeting, send messages, and close");
        command.Add(target);
        command.Add(messages);
        command.Add(connectTimeout);
        command.Add(timeout);
        command.Add(ack);
        command.Add(ackTimeout);
        tls.AddTo(command);
        spool.AddTo(command);
        common.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            // Without this, an unknown --option would be sent as a message; after "--" anything is a message.
            var unknown = result.Tokens.TakeWhile(t => t.Type != TokenType.DoubleDash)
                .FirstOrDefault(t => t.Type == TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-');
            if (unknown is not null)
            {
                throw new UserErrorException(ExitCode.Usage, UsageErrors.UnknownOption(unknown.Value, "to send a message that starts with '-', put it after --", UsageErrors.HelpCommand(result.CommandResult)));
            }

            string? spoolDirectory = result.GetValue(spool.Spool);
            if (spoolDirectory is null && spool.WithoutSpool(result) is { } needsSpool)
            {
                throw new UserErrorException(ExitCode.Usage, needsSpool);
            }

            if (spoolDirectory is not null && result.GetValue(spool.Status))
            {
                return SpoolSend.PrintStatus(spoolDirectory, TimeProvider.System);
            }

            if (result.GetValue(target) is not { } targetText)
            {
                throw new UserErrorException(ExitCode.Usage, $"missing <{target.Name}> ({UsageErrors.HelpCommand(result.CommandResult)})");
            }

            if (!HostAndPort.TryParse(targetText, HostAndPort.DefaultPort, out var server, out string? error))
            {
                throw new UserErrorException(ExitCode.Usage, error!);
            }

            if (server.Port == 0 && !server.IsUnixSocket)
            {
                throw new UserErrorException(ExitCode.Usage, $"port 0 cannot be connected to ('{result.GetValue(target)}'): give a port from 1 to 65535, or none for {HostAndPort.DefaultPort}");
            }

            bool verbose = result.GetValue(common.Verbose);
            var connection = new ConnectionWatch(verbose);
            var options = new TalkClientOptions
            {
                Framing = result.GetValue(common.Framing),
                Encoding = result.GetValue(common.Encoding)!,
                MaxMessageBytes = result.GetValue(common.MaxMessageBytes),
                ConnectTimeout = result.GetValue(connectTimeout),
                ResponseTimeout = result.GetValue(timeout),
                OnAttempt = connection.OnAttempt,
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
                // Every setting a flag gives is checked by the flag's own validator; this is the library's backstop.
                throw new UserErrorException(ExitCode.Usage, e.Message, e);
            }

            var lines = result.GetValue(messages) is { Length: > 0 } ? null : Console.In; // no MESSAGE: stdin lines
            if (spoolDirectory is not null)
            {
                var senderOptions = spool.Load(result, options);
                RefuseUnsendable(result.GetValue(messages) ?? [], options);
                return await SpoolSend.RunAsync(server, spoolDirectory, senderOptions, result.GetValue(messages) ?? [], lines, verbose, shutdown()).ConfigureAwait(false);
            }

            return await RunAsync(server, options, result.GetValue(messages) ?? [], lines, connection, verbose, shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(HostAndPort server, TalkClientOptions options, string[] messages, TextReader? lines,
        ConnectionWatch connection, bool verbose, CancellationToken cancel)
    {
        var framer = RefuseUnsendable(messages, options);

        if (options.Tls is { Insecure: true })
        {
            await Console.Error.WriteLineAsync(ClientTlsFlags.InsecureWarning).ConfigureAwait(false);
        }

        if (lines is not null && !Console.IsInputRedirected)
        {
            using var terminal = TerminalLines();
            var session = new InteractiveSend(server, options, framer, connection, verbose);
            return await session.RunAsync(terminal, cancel).ConfigureAwait(false);
        }

        await using var client = await ConnectAsync(server, options, connection, verbose, cancel).ConfigureAwait(false);
        if (lines is null)
        {
            foreach (string message in messages)
            {
                await client.SendAsync(message, cancel).ConfigureAwait(false);
            }
        }
        else
        {
            await SendLinesAsync(client, lines, framer, options, cancel).ConfigureAwait(false);
        }

        await client.CompleteAsync(cancel).ConfigureAwait(false);
        if (verbose)
        {
            await Console.Error.WriteLineAsync($"sent {client.MessagesSent} message(s); server closed the connection").ConfigureAwait(false);
            if (options.RequireAcknowledgements)
            {
                var ids = client.AcknowledgedIds;
                await Console.Error.WriteLineAsync(ids.Count == 1 ? $"acknowledged as id {ids[0]}" : $"acknowledged as ids {string.Join(' ', ids)}").ConfigureAwait(false);
            }
        }

        return (int)ExitCode.Success;
    }

    /// <summary>Refuses unsendable arguments before connecting (or spooling), so a typo costs no connection.</summary>
    private static MessageFramer RefuseUnsendable(string[] messages, TalkClientOptions options)
    {
        var framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        for (int i = 0; i < messages.Length; i++)
        {
            if (!framer.CanCarry(options.Encoding.GetBytes(messages[i]), out string? reason))
            {
                throw new UserErrorException(ExitCode.Usage, $"message {i + 1}: {reason}");
            }
        }

        return framer;
    }

    /// <summary>
    /// Connects and prints the greeting (on stdout) and, with <c>-v</c>, the connection. Over plain TCP, a failure once
    /// connected that a TLS server would cause says to try <c>--tls</c>.
    /// </summary>
    internal static async Task<TalkClient> ConnectAsync(HostAndPort server, TalkClientOptions options, ConnectionWatch connection, bool verbose,
        CancellationToken cancel)
    {
        TalkClient client;
        try
        {
            client = await TalkClient.ConnectAsync(server.Host, server.Port, options, cancel).ConfigureAwait(false);
        }
        catch (TlsHandshakeException) when (options.Tls is null)
        {
            // Only the check for a TLS record where the greeting should be fails this way without TLS.
            throw new UserErrorException(ExitCode.TlsFailed, $"{server} is a TLS server: it answered in TLS where the greeting should be; add --tls");
        }
        catch (Exception e) when (options.Tls is null && connection.Connected && e is TalkTimeoutException or ProtocolException and not MessageTooLongException
                                      && e.InnerException is not MessageTooLongException)
        {
            // A TLS server says nothing until the client starts TLS, and closes after its own handshake timeout.
            var (code, message) = ErrorReporter.Describe(e);
            throw new UserErrorException(code, $"{message} (a TLS server waits for the client to start TLS: if it is one, add --tls)", e);
        }

        if (verbose)
        {
            string connected = client.RemoteEndPoint is System.Net.Sockets.UnixDomainSocketEndPoint unix
                ? UnixSocketPath.Format(unix.ToString()) : $"{client.LocalEndPoint} -> {client.RemoteEndPoint}";
            await Console.Error.WriteLineAsync($"connected: {connected}").ConfigureAwait(false);
            if (client.ServerCertificate is { } certificate)
            {
                await Console.Error.WriteLineAsync(
                    $"tls: {Describe(client.TlsProtocol)}, server certificate {CertificateFingerprint.Describe(certificate)} SHA256 {CertificateFingerprint.FormatSha256(certificate)}").ConfigureAwait(false);
            }
        }

        Console.Out.WriteLine(client.Greeting);
        Console.Out.Flush();
        return client;
    }

    /// <summary>
    /// The lines typed on the terminal. On Unix, read from descriptor 0 itself, so that the terminal's own line
    /// discipline edits and echoes them as for a C program's fgets: Console.In (and Console.OpenStandardInput, which
    /// reads through it) switches echo off and on around each read, so a line typed while a message is being sent is
    /// echoed twice, and an erase makes it query the cursor position of a terminal that may never answer.
    /// </summary>
    private static TextReader TerminalLines()
    {
        if (OperatingSystem.IsWindows())
        {
            return Console.In;
        }

        var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        return new StreamReader(stdin, Console.InputEncoding); // the terminal's encoding, not --encoding (the wire's)
    }

    private static async Task SendLinesAsync(TalkClient client, TextReader lines, MessageFramer framer, TalkClientOptions options, CancellationToken cancel)
    {
        int lineNumber = 0;
        while (await lines.ReadLineAsync(cancel).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (!framer.CanCarry(options.Encoding.GetBytes(line), out string? reason))
            {
                throw new UserErrorException(ExitCode.Usage, $"stdin line {lineNumber}: {reason}");
            }

            await client.SendAsync(line, cancel).ConfigureAwait(false);
        }
    }

    /// <summary>A duration flag that must be positive, saying so in the flag's own words.</summary>
    internal static Option<TimeSpan> Positive(Option<TimeSpan> option)
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && r.GetValueOrDefault<TimeSpan>() <= TimeSpan.Zero)
            {
                r.AddError($"{option.Name} must be positive, not {r.Tokens[^1].Value}");
            }
        });
        return option;
    }

    private static string Describe(SslProtocols? protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString() ?? "TLS",
    };
}
