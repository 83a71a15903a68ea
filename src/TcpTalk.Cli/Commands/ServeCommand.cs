using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using TcpTalk.Cli.Configuration;
using TcpTalk.Cli.Hosting;
using TcpTalk.Hosting;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk serve</c>: run the server until Ctrl+C or SIGTERM (or the service manager says stop). Every flag is a
/// configuration key (see <see cref="ServeConfiguration"/>): a flag given on the command line wins over
/// appsettings.json and the environment; one not given leaves them be. Defaults live in the settings, not here: the
/// help shows them as the flags take them (<see cref="Defaults"/>).
/// </summary>
internal static class ServeCommand
{
    public static Command Create(CommonOptions common, Func<CancellationToken> shutdown)
    {
        var defaults = new TalkServerSettings();
        var server = defaults.Server;
        var port = new Option<int>("--port", "-p")
        {
            Description = Defaults("Port to listen on, on all interfaces (IPv6 and IPv4); 0 lets the OS choose", server.Port),
        };
        port.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value is < 0 or > 65535)
            {
                r.AddError($"--port must be between 0 and 65535, not {value}");
            }
        });
        var listen = new Option<EndPoint[]>("--listen", "-l")
        {
            Description = Defaults("Listen on ADDR:PORT instead (repeatable): 127.0.0.1:9000, [::1]:9000, [::]:9000, 0.0.0.0:9000, or a unix socket unix:/run/tcptalk.sock", "none"),
            CustomParser = ParseListen,
            HelpName = "addr:port",
            AllowMultipleArgumentsPerToken = false,
        };
        var unixSocketMode = new Option<string>("--unix-socket-mode")
        {
            Description = Defaults("File mode of the unix sockets --listen creates, octal as chmod takes it (666: everyone may connect)", server.UnixSocketMode),
            HelpName = "mode",
        };
        var greeting = new Option<string>("--greeting")
        {
            Description = Defaults("Greeting sent to every client; {address} and {port} are the client's", server.Greeting),
            HelpName = "template",
        };
        var shutdownTimeout = Duration("--shutdown-timeout", "On Ctrl+C/SIGTERM, how long connections may take to finish the message in flight", server.ShutdownTimeout);
        var maxConnections = new Option<int>("--max-connections")
        {
            Description = Defaults("Most connections at once; past it a client gets 'error: server busy' and is closed (0 = no limit)", server.MaxConnections),
            HelpName = "count",
        };
        const string PerAddress = "Most connections at once from one client address (0 = no limit)";
        var maxPerAddress = new Option<int>("--max-connections-per-address")
        {
            Description = Defaults(PerAddress, server.MaxConnectionsPerAddress),
            HelpName = "count",
        };
        // The flag's first spelling, kept for the scripts that use it; the help shows the one spelling.
        var maxPerIp = new Option<int>("--max-connections-per-ip") { Description = PerAddress, HelpName = "count", Hidden = true };
        var idleTimeout = Duration("--idle-timeout", "Close a connection that completes no message for this long (0 = never)", server.IdleTimeout);
        var messageTimeout = Duration("--message-timeout", "Close a connection whose message is not complete this long after its first byte (0 = never)", server.MessageTimeout);
        var writeTimeout = Duration("--write-timeout", "Close a connection that does not read what the server sends for this long (0 = never)", server.WriteTimeout);
        var keepAliveTime = Duration("--keepalive-time", "TCP keepalive: idle time before the first probe (0 = keepalive off)", server.KeepAliveTime);
        var keepAliveInterval = Duration("--keepalive-interval", "TCP keepalive: time between unanswered probes", server.KeepAliveInterval);
        var keepAliveCount = new Option<int>("--keepalive-count")
        {
            Description = Defaults("TCP keepalive: unanswered probes after which a vanished peer's connection is closed", server.KeepAliveCount),
            HelpName = "count",
        };
        var allow = new Option<System.Net.IPNetwork[]>("--allow")
        {
            Description = Defaults("Serve only clients in this network (CIDR, repeatable): 127.0.0.0/8, ::1/128, 10.0.0.0/8", "none"),
            CustomParser = ParseNetworks,
            HelpName = "cidr",
        };
        var deny = new Option<System.Net.IPNetwork[]>("--deny")
        {
            Description = Defaults("Refuse clients in this network before the greeting (CIDR, repeatable; deny wins over --allow)", "none"),
            CustomParser = ParseNetworks,
            HelpName = "cidr",
        };
        var trustedProxy = new Option<System.Net.IPNetwork[]>("--trusted-proxy")
        {
            Description = Defaults("Connections from this network (CIDR, repeatable) come from a load balancer and must begin with a PROXY protocol header (v1 or v2); its client address is then the client's", "none"),
            CustomParser = ParseNetworks,
            HelpName = "cidr",
        };
        var proxyHeaderTimeout = Duration("--proxy-header-timeout", "Close a --trusted-proxy connection whose PROXY header is not complete this long after connecting", server.ProxyHeaderTimeout);
        var journal = new Option<string>("--journal")
        {
            Description = Defaults("Store every message in this journal before printing or acknowledging it: a SQLite file, or postgres://USER@HOST[:PORT]/DATABASE[?schema=NAME]", defaults.Journal.Path),
            HelpName = "path",
        };
        var nodeName = new Option<string>("--node-name")
        {
            Description = Defaults("The name stored with every message in a PostgreSQL journal, to tell the nodes sharing it apart", "the host name"),
            HelpName = "name",
        };
        var journalMaxBytes = new Option<string>("--journal-max-bytes")
        {
            Description = Defaults("Keep at most this much journal data (500MB, 2GiB): past it the oldest messages are dropped whole, each drop logged", "keep everything"),
            HelpName = "size",
        };
        var journalMaxAge = new Option<string>("--journal-max-age")
        {
            Description = Defaults("Drop messages received longer ago than this (7d, 12h), whole, each drop logged", "keep everything"),
            HelpName = "duration",
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
            Description = Defaults("Serve TLS with this certificate: PEM (its key in --tls-key or in the same file) or PKCS#12 without a password", "none"),
            HelpName = "file",
        };
        var tlsKey = new Option<string>("--tls-key")
        {
            Description = Defaults("The PEM private key of --tls-cert", "none"),
            HelpName = "file",
        };
        var tlsClientCa = new Option<string>("--tls-client-ca")
        {
            Description = Defaults("Mutual TLS: require a client certificate issued by this CA (PEM); others are refused in the handshake", "none"),
            HelpName = "file",
        };
        var tlsHandshakeTimeout = Duration("--tls-handshake-timeout", "Close a connection that has not completed the TLS handshake this long after connecting (0 = never)", defaults.Tls.HandshakeTimeout);
        var adminListen = new Option<string>("--admin-listen")
        {
            Description = Defaults("Serve GET /metrics (Prometheus), /healthz and /readyz on ADDR:PORT, e.g. 127.0.0.1:9464 (no authentication: loopback or a management network)", "off"),
            HelpName = "addr:port",
        };
        var output = new Option<string>("--output")
        {
            Description = Defaults("How received messages are printed on stdout: text (one line each) or json (JSON Lines, the fields of 'messages --json')", "text"),
            HelpName = "text|json",
        };
        output.Validators.Add(r =>
        {
            string text = r.GetValueOrDefault<string>() ?? "";
            if (!text.Equals("text", StringComparison.OrdinalIgnoreCase) && !text.Equals("json", StringComparison.OrdinalIgnoreCase))
            {
                r.AddError($"--output must be text or json, not '{text}'");
            }
        });
        var config = new Option<string>("--config")
        {
            Description = $"Read settings from this JSON file (must exist) instead of {ServeConfiguration.FileName} beside tcptalk and in the working directory",
            HelpName = "file",
        };
        var printConfig = new Option<bool>("--print-config")
        {
            Description = "Print the effective settings (JSON, each value's source in a comment) and exit without listening",
        };

        // Each flag and the configuration key it sets; docs/DEPLOY.md lists them all.
        Flag[] flags =
        [
            new(port, "Server:Port"),
            new(listen, "Server:Listen"),
            new(unixSocketMode, "Server:UnixSocketMode"),
            new(greeting, "Server:Greeting"),
            new(common.Framing, "Server:Framing"),
            new(common.Encoding, "Server:Encoding"),
            new(common.MaxMessageBytes, "Server:MaxMessageBytes"),
            new(shutdownTimeout, "Server:ShutdownTimeout"),
            new(maxConnections, "Server:MaxConnections"),
            new(maxPerIp, "Server:MaxConnectionsPerAddress"),
            new(maxPerAddress, "Server:MaxConnectionsPerAddress"),
            new(idleTimeout, "Server:IdleTimeout"),
            new(messageTimeout, "Server:MessageTimeout"),
            new(writeTimeout, "Server:WriteTimeout"),
            new(keepAliveTime, "Server:KeepAliveTime"),
            new(keepAliveInterval, "Server:KeepAliveInterval"),
            new(keepAliveCount, "Server:KeepAliveCount"),
            new(allow, "Server:Allow"),
            new(deny, "Server:Deny"),
            new(trustedProxy, "Server:TrustedProxies"),
            new(proxyHeaderTimeout, "Server:ProxyHeaderTimeout"),
            new(ack, "Server:Acknowledge", IfTrue: "true"),
            new(output, "Server:Output"),
            new(journal, "Journal:Path"),
            new(nodeName, "Journal:NodeName"),
            new(journalMaxBytes, "Journal:MaxBytes"),
            new(journalMaxAge, "Journal:MaxAge"),
            new(noJournal, "Journal:Enabled", IfTrue: "false"),
            new(tlsCert, "Tls:Certificate"),
            new(tlsKey, "Tls:Key"),
            new(tlsClientCa, "Tls:ClientCa"),
            new(tlsHandshakeTimeout, "Tls:HandshakeTimeout"),
            new(adminListen, "Admin:Listen"),
            new(common.Verbose, "Logging:LogLevel:Default", IfTrue: "Debug"),
        ];

        var command = new Command("serve", "Listen for clients: greet each one, print every message it sends (one line each on stdout)");
        foreach (var flag in flags.Where(f => f.Option != common.Framing && f.Option != common.Encoding && f.Option != common.MaxMessageBytes && f.Option != common.Verbose))
        {
            command.Add(flag.Option);
        }

        common.AddTo(command);
        command.Add(config);
        command.Add(printConfig);
        command.SetAction(async (result, _) =>
        {
            string? configFile = result.GetValue(config);
            var inputs = new ConfigurationInputs(
                ConfigurationInputs.FindFiles(configFile, AppContext.BaseDirectory, Environment.CurrentDirectory),
                ConfigurationInputs.ProcessEnvironment(),
                [.. flags.Select(f => f.Given(result)).OfType<GivenFlag>()],
                flags.GroupBy(f => f.Key, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last().Option.Name, StringComparer.OrdinalIgnoreCase),
                ConfigurationInputs.OptionalFilesFor(configFile, AppContext.BaseDirectory, Environment.CurrentDirectory));
            var configuration = ServeConfiguration.Load(inputs);
            if (result.GetValue(printConfig))
            {
                Console.Out.Write(configuration.Describe());
                return (int)ExitCode.Success;
            }

            SocketTuning.UseInlineCompletions(tls: configuration.Settings.Tls.Certificate is not null);
            return await ServeHost.RunAsync(configuration, shutdown()).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary><paramref name="description"/> with the default as the flag takes it, as the help shows defaults: <c>[default: 5s]</c>.</summary>
    private static string Defaults(string description, object value) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{description} [default: {value}]");

    private static Option<TimeSpan> Duration(string name, string description, string defaultValue) =>
        CommonOptions.Duration(name, Defaults(description, defaultValue));

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

    private static EndPoint[] ParseListen(ArgumentResult result)
    {
        var endpoints = new List<EndPoint>();
        foreach (var token in result.Tokens)
        {
            if (SettingText.TryParseListenEndpoint(token.Value, out var endpoint, out string? error))
            {
                endpoints.Add(endpoint);
            }
            else
            {
                result.AddError($"--listen {token.Value}: {error}");
            }
        }

        return [.. endpoints];
    }

    /// <summary>A flag and the configuration key it sets; a switch sets <paramref name="IfTrue"/> when given.</summary>
    private sealed record Flag(Option Option, string Key, string? IfTrue = null)
    {
        /// <summary>The key, flag name and values as typed, when the flag was given on the command line; else null.</summary>
        public GivenFlag? Given(ParseResult result)
        {
            if (result.GetResult(Option) is not { Implicit: false } given)
            {
                return null;
            }

            if (IfTrue is null)
            {
                return new GivenFlag(Key, Option.Name, [.. given.Tokens.Select(t => t.Value)]);
            }

            bool on = given.Tokens.Count == 0 || bool.TryParse(given.Tokens[^1].Value, out bool value) && value;
            return on ? new GivenFlag(Key, Option.Name, [IfTrue]) : null;
        }
    }
}
