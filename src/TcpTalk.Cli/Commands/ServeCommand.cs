using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using TcpTalk.Journal;
using TcpTalk.Protocol;
using TcpTalk.Server;

namespace TcpTalk.Cli.Commands;

/// <summary><c>tcptalk serve</c>: run the server until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var port = new Option<int>("--port", "-p")
        {
            Description = "Port to listen on, on all interfaces (IPv6 and IPv4); 0 lets the OS choose",
            DefaultValueFactory = _ => HostAndPort.DefaultPort,
        };
        port.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value is < 0 or > 65535)
            {
                r.AddError($"--port must be between 0 and 65535, not {value}");
            }
        });
        var listen = new Option<IPEndPoint[]>("--listen", "-l")
        {
            Description = "Listen on ADDR:PORT instead (repeatable): 127.0.0.1:9000, [::1]:9000, [::]:9000, 0.0.0.0:9000",
            CustomParser = ParseListen,
            HelpName = "addr:port",
            AllowMultipleArgumentsPerToken = false,
        };
        var greeting = new Option<string>("--greeting")
        {
            Description = "Greeting sent to every client; {address} and {port} are the client's",
            DefaultValueFactory = _ => GreetingTemplate.DefaultText,
            HelpName = "template",
        };
        var shutdownTimeout = CommonOptions.Duration("--shutdown-timeout", "On Ctrl+C/SIGTERM, how long connections may take to finish the message in flight", TimeSpan.FromSeconds(5));

        var maxConnections = new Option<int>("--max-connections")
        {
            Description = "Most connections at once; past it a client gets 'error: server busy' and is closed (0 = no limit)",
            DefaultValueFactory = _ => new TalkServerOptions().MaxConnections,
            HelpName = "count",
        };
        var maxPerAddress = new Option<int>("--max-connections-per-ip")
        {
            Description = "Most connections at once from one client address (0 = no limit)",
            DefaultValueFactory = _ => 0,
            HelpName = "count",
        };
        var idleTimeout = CommonOptions.Duration("--idle-timeout", "Close a connection that completes no message for this long (0 = never)", TimeSpan.FromSeconds(60));
        var messageTimeout = CommonOptions.Duration("--message-timeout", "Close a connection whose message is not complete this long after its first byte (0 = never)", TimeSpan.FromSeconds(30));
        var writeTimeout = CommonOptions.Duration("--write-timeout", "Close a connection that does not read what the server sends for this long (0 = never)", TimeSpan.FromSeconds(30));
        var allow = new Option<System.Net.IPNetwork[]>("--allow")
        {
            Description = "Serve only clients in this network (CIDR, repeatable): 127.0.0.0/8, ::1/128, 10.0.0.0/8",
            CustomParser = ParseNetworks,
            HelpName = "cidr",
        };
        var deny = new Option<System.Net.IPNetwork[]>("--deny")
        {
            Description = "Refuse clients in this network before the greeting (CIDR, repeatable; deny wins over --allow)",
            CustomParser = ParseNetworks,
            HelpName = "cidr",
        };

        var journal = new Option<string>("--journal")
        {
            Description = "Store every message in this SQLite journal before printing or acknowledging it",
            DefaultValueFactory = _ => "tcptalk.db",
            HelpName = "path",
        };
        var noJournal = new Option<bool>("--no-journal")
        {
            Description = "Store nothing: print messages only, like the classic server",
        };
        var ack = new Option<bool>("--ack")
        {
            Description = "Send 'ack <id>' to the client once each message is committed (fsynced) to the journal",
        };

        var tlsCert = new Option<string>("--tls-cert")
        {
            Description = "Serve TLS with this certificate: PEM (its key in --tls-key or in the same file) or PKCS#12 without a password",
            HelpName = "file",
        };
        var tlsKey = new Option<string>("--tls-key")
        {
            Description = "The PEM private key of --tls-cert",
            HelpName = "file",
        };
        var tlsClientCa = new Option<string>("--tls-client-ca")
        {
            Description = "Mutual TLS: require a client certificate issued by this CA (PEM); others are refused in the handshake",
            HelpName = "file",
        };
        var tlsHandshakeTimeout = CommonOptions.Duration("--tls-handshake-timeout", "Close a connection that has not completed the TLS handshake this long after connecting (0 = never)", TimeSpan.FromSeconds(10));

        var output = new Option<MessageOutputFormat>("--output")
        {
            Description = "How received messages are printed on stdout: text (one line each) or json (JSON Lines, the fields of 'messages --json')",
            DefaultValueFactory = _ => MessageOutputFormat.Text,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[^1].Value : "";
                if (text.Equals("json", StringComparison.OrdinalIgnoreCase))
                {
                    return MessageOutputFormat.Json;
                }

                if (!text.Equals("text", StringComparison.OrdinalIgnoreCase))
                {
                    r.AddError($"--output must be text or json, not '{text}'");
                }

                return MessageOutputFormat.Text;
            },
            HelpName = "text|json",
        };

        var command = new Command("serve", "Listen for clients: greet each one, print every message it sends (one line each on stdout)");
        command.Add(port);
        command.Add(listen);
        command.Add(greeting);
        command.Add(shutdownTimeout);
        command.Add(maxConnections);
        command.Add(maxPerAddress);
        command.Add(idleTimeout);
        command.Add(messageTimeout);
        command.Add(writeTimeout);
        command.Add(allow);
        command.Add(deny);
        command.Add(output);
        command.Add(journal);
        command.Add(noJournal);
        command.Add(ack);
        command.Add(tlsCert);
        command.Add(tlsKey);
        command.Add(tlsClientCa);
        command.Add(tlsHandshakeTimeout);
        common.AddTo(command);
        command.SetAction(async (result, _) =>
        {
            var options = new TalkServerOptions
            {
                Port = result.GetValue(port),
                Framing = result.GetValue(common.Framing),
                Encoding = result.GetValue(common.Encoding)!,
                MaxMessageBytes = result.GetValue(common.MaxMessageBytes),
                Greeting = result.GetValue(greeting)!,
                ShutdownTimeout = result.GetValue(shutdownTimeout),
                MaxConnections = result.GetValue(maxConnections),
                MaxConnectionsPerAddress = result.GetValue(maxPerAddress),
                IdleTimeout = result.GetValue(idleTimeout),
                MessageTimeout = result.GetValue(messageTimeout),
                WriteTimeout = result.GetValue(writeTimeout),
            };
            foreach (var network in result.GetValue(allow) ?? [])
            {
                options.Allow.Add(network);
            }

            foreach (var network in result.GetValue(deny) ?? [])
            {
                options.Deny.Add(network);
            }

            foreach (var endpoint in result.GetValue(listen) ?? [])
            {
                options.Listen.Add(endpoint);
            }

            string? journalPath = result.GetValue(noJournal) ? null : result.GetValue(journal);
            options.Acknowledge = result.GetValue(ack);
            if (options.Acknowledge && journalPath is null)
            {
                throw new UserErrorException(ExitCode.Usage, "--ack needs the journal: acknowledgements carry the journal id of a stored message (drop --no-journal)");
            }

            options.Tls = LoadTls(result.GetValue(tlsCert), result.GetValue(tlsKey), result.GetValue(tlsClientCa),
                result.GetResult(tlsHandshakeTimeout) is { Implicit: false } ? result.GetValue(tlsHandshakeTimeout) : null);
            return await RunAsync(options, journalPath, result.GetValue(output), result.GetValue(common.Verbose), shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(TalkServerOptions options, string? journalPath, MessageOutputFormat format, bool verbose, CancellationToken shutdown)
    {
        try
        {
            // The journal is opened below; validate everything else first (Acknowledge is checked with it).
            bool acknowledge = options.Acknowledge;
            options.Acknowledge = false;
            options.Validate();
            options.Acknowledge = acknowledge;
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException(ExitCode.Usage, e.Message, e);
        }

        using var certificate = options.Tls?.Certificate; // disposed after the server (declared before it)
        using var loggers = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        await using var output = new MessageOutput(Console.OpenStandardOutput(), format);
        // Disposed after the server (declared before it): connections still appending finish first.
        await using var journal = journalPath is null ? null : SqliteMessageJournal.Open(journalPath,
            new JournalOptions { Durability = options.Acknowledge ? JournalDurability.Full : JournalDurability.Normal }, loggers);
        options.Journal = journal;
        await using var server = new TalkServer(options, output, loggers);
        await server.StartAsync(shutdown).ConfigureAwait(false);
        await server.RunAsync(shutdown).ConfigureAwait(false);
        return (int)ExitCode.Success;
    }

    private static ServerTlsOptions? LoadTls(string? certificate, string? key, string? clientCa, TimeSpan? handshakeTimeout)
    {
        if (certificate is null)
        {
            string? stray = key is not null ? "--tls-key" : clientCa is not null ? "--tls-client-ca" : handshakeTimeout is not null ? "--tls-handshake-timeout" : null;
            return stray is null ? null : throw new UserErrorException(ExitCode.Usage, $"{stray} needs --tls-cert (the server's certificate)");
        }

        var tls = new ServerTlsOptions
        {
            Certificate = TlsFiles.LoadWithKey(certificate, key, "--tls-cert", "--tls-key"),
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
        };
        tls.IntermediateCertificates.AddRange(TlsFiles.LoadIntermediates(certificate, tls.Certificate));
        if (clientCa is not null)
        {
            tls.ClientCertificateAuthorities.AddRange(TlsFiles.LoadCertificates(clientCa, "--tls-client-ca"));
        }

        return tls;
    }

    private static System.Net.IPNetwork[] ParseNetworks(ArgumentResult result)
    {
        string option = result.Parent is OptionResult parent ? parent.Option.Name : "network";
        var networks = new List<System.Net.IPNetwork>();
        foreach (var token in result.Tokens)
        {
            if (NetworkText.TryParse(token.Value, maskHostBits: false, out var network, out string? error))
            {
                networks.Add(network);
            }
            else
            {
                result.AddError($"{option} '{token.Value}': {error}");
            }
        }

        return [.. networks];
    }

    private static IPEndPoint[] ParseListen(ArgumentResult result)
    {
        var endpoints = new List<IPEndPoint>();
        foreach (var token in result.Tokens)
        {
            if (!HostAndPort.TryParse(token.Value, -1, out var parsed, out string? error))
            {
                result.AddError($"--listen {token.Value}: {error}");
                continue;
            }

            if (parsed.Port < 0)
            {
                result.AddError($"--listen {token.Value}: give a port, e.g. {parsed.Host}:{HostAndPort.DefaultPort}");
                continue;
            }

            var address = parsed.Host == "*" ? IPAddress.IPv6Any : parsed.Address;
            if (address is null)
            {
                result.AddError($"--listen {token.Value}: '{parsed.Host}' is not an IP address (host names are not resolved here)");
                continue;
            }

            endpoints.Add(new IPEndPoint(address, parsed.Port));
        }

        return [.. endpoints];
    }
}
