using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>Changing a running server's options: a new snapshot for the connections accepted from then on.</summary>
public sealed partial class TalkServer
{
    /// <summary>
    /// Serves every connection accepted from now on with <paramref name="options"/>: access control, limits, timeouts,
    /// greeting, message size, TLS certificate, and whatever else <see cref="TalkServerOptions"/> holds that is read per
    /// connection. Connections already open keep the options they were accepted with. What the listeners were bound
    /// with cannot change while they are open: <see cref="TalkServerOptions.Port"/>, <see cref="TalkServerOptions.Listen"/>,
    /// <see cref="TalkServerOptions.ListenBacklog"/> and the keepalive settings, and neither can
    /// <see cref="TalkServerOptions.Framing"/>, <see cref="TalkServerOptions.Journal"/>,
    /// <see cref="TalkServerOptions.Acknowledge"/>, <see cref="TalkServerOptions.MeterFactory"/> or
    /// <see cref="TalkServerOptions.TimeProvider"/> (<see cref="TalkServerOptions.RestartOnlyProperties"/>): give the current
    /// values (<see cref="TalkServerOptions.CopyRestartOnlyFrom"/> copies them; <see cref="RestartOnlyChanges"/> names those that differ).
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range, or one of those that cannot change differs; the message names it.</exception>
    public void Reconfigure(TalkServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        lock (_reconfiguring)
        {
            if (RestartOnlyChanges(options) is [var first, ..])
            {
                throw new ArgumentException($"{first} cannot change while the server runs (restart it)");
            }

            var context = CreateContext(options);
            _options = options;
            _context = context;
            if (_sweep is null && State == ServerState.Started && NeedsSweep(options))
            {
                _sweep = StartSweep();
            }
        }
    }

    /// <summary>
    /// The properties of <paramref name="options"/> that differ from the current ones and cannot change while the
    /// server runs (see <see cref="Reconfigure"/>), in declaration order; empty when it may be applied.
    /// </summary>
    public IReadOnlyList<string> RestartOnlyChanges(TalkServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return RestartOnlyOptions.Differences(_options, options);
    }

    /// <summary>What the connections accepted under <paramref name="options"/> share; the counters, tokens and log are the server's.</summary>
    private ConnectionContext CreateContext(TalkServerOptions options) => new()
    {
        Logger = _logger,
        Options = options,
        Framer = new MessageFramer(options.Framing, options.MaxMessageBytes),
        Greeting = GreetingTemplate.Parse(options.Greeting, options.Encoding),
        TimeProvider = options.TimeProvider,
        Metrics = _metrics,
        Tls = options.Tls is { } tls ? new TlsTransport.Settings(tls) : null,
        Encoding = options.Encoding,
        Journal = options.Journal,
        Sink = _sink,
        Acknowledge = options.Acknowledge,
        Stopping = _stopping.Token,
        Aborting = _aborting.Token,
        TlsFailures = _tlsFailures,
        ProxyHeaders = ProxyHeaderReader.For(options, _metrics),
        Admission = _admission,
        Closed = OnConnectionClosed,
    };
}
