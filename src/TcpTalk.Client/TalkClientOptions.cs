using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>Settings of a <see cref="TalkClient"/>.</summary>
public sealed class TalkClientOptions
{
    /// <summary>Message framing; must match the server's. Default <see cref="FramingMode.Nul"/>.</summary>
    public FramingMode Framing { get; set; } = FramingMode.Nul;

    /// <summary>Encoding of messages sent and of the greeting. Default UTF-8; legacy code pages via <see cref="MessageText.GetEncoding"/>.</summary>
    public Encoding Encoding { get; set; } = MessageText.Utf8;

    /// <summary>
    /// Longest frame accepted from the server (the greeting included) and longest message sent, in bytes.
    /// Default 65536, the server's default limit. Range 1 to 1 GiB.
    /// </summary>
    public int MaxMessageBytes { get; set; } = MessageFramer.DefaultMaxMessageBytes;

    /// <summary>
    /// Time allowed for resolving the host and connecting to one of its addresses. Default 5 s: several attempts
    /// of Happy Eyeballs fit, and a user waits no longer for a dead host. Zero or negative is invalid.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time allowed for each wait on the server after connecting: the greeting, and the close after the last
    /// message. Default 10 s. Zero or negative is invalid.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Happy Eyeballs "connection attempt delay" (RFC 8305, section 5): how long one address may try before the next
    /// starts in parallel. Default 250 ms, the RFC's recommendation. Range 10 ms to 2 s.
    /// </summary>
    public TimeSpan AttemptDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Expect an acknowledgement (<c>ack &lt;id&gt;</c>) from the server for every message (server started with
    /// <c>--ack</c>); <see cref="TalkClient.CompleteAsync"/> then fails with <see cref="NotAcknowledgedException"/> when
    /// any is missing. Default false.
    /// </summary>
    public bool RequireAcknowledgements { get; set; }

    /// <summary>
    /// How long <see cref="TalkClient.CompleteAsync"/> waits for the outstanding acknowledgements after the last message.
    /// Default 10 s: a journal commit takes milliseconds, so this only bounds a stuck server. Must be positive.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// TLS: when set, the client does the TLS handshake right after connecting (bounded by
    /// <see cref="ResponseTimeout"/>) and reads the greeting over it. Default null: plain TCP, as the classic programs.
    /// </summary>
    public ClientTlsOptions? Tls { get; set; }

    /// <summary>
    /// Bytes sent right after connecting, before the TLS handshake and the greeting: a PROXY protocol header, for a
    /// load generator or a test that stands in for a balancer (<c>tcptalk bench --proxy-protocol</c>). Default empty:
    /// nothing, as the classic client.
    /// </summary>
    public ReadOnlyMemory<byte> Preamble { get; set; }

    /// <summary>Resolves host names. Default the system resolver; tests inject their own.</summary>
    public IHostResolver Resolver { get; set; } = SystemHostResolver.Instance;

    /// <summary>Clock for timeouts and the attempt delay. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Called once per connection attempt when it starts and when it ends (for <c>-v</c>). Default none.</summary>
    public Action<ConnectAttempt>? OnAttempt { get; set; }

    /// <summary>
    /// Called for each frame the server sends after the greeting (acknowledgements, error frames, unknown frames), as
    /// it arrives, on the client's reader; it must return quickly and not throw. Default none.
    /// </summary>
    public Action<ServerFrame>? OnServerFrame { get; set; }

    /// <summary>A copy of these settings, acknowledgements required, that also hands every server frame to <paramref name="observe"/>.</summary>
    internal TalkClientOptions AcknowledgedCopy(Action<ServerFrame> observe)
    {
        var mine = OnServerFrame;
        var copy = (TalkClientOptions)MemberwiseClone();
        copy.RequireAcknowledgements = true;
        copy.OnServerFrame = frame =>
        {
            observe(frame);
            mine?.Invoke(frame);
        };
        return copy;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (MaxMessageBytes is < 1 or > MessageFramer.MaxAllowedMessageBytes)
        {
            throw new ArgumentException($"MaxMessageBytes is {MaxMessageBytes}; it must be between 1 and {MessageFramer.MaxAllowedMessageBytes}");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ConnectTimeout is {ConnectTimeout}; it must be positive");
        }

        if (ResponseTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"ResponseTimeout is {ResponseTimeout}; it must be positive");
        }

        if (AckTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"AckTimeout is {AckTimeout}; it must be positive");
        }

        if (AttemptDelay < TimeSpan.FromMilliseconds(10) || AttemptDelay > TimeSpan.FromSeconds(2))
        {
            throw new ArgumentException($"AttemptDelay is {AttemptDelay}; it must be between 10 ms and 2 s");
        }

        Tls?.Validate();
        ArgumentNullException.ThrowIfNull(Encoding);
        ArgumentNullException.ThrowIfNull(Resolver);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}

/// <summary>One connection attempt to one address, as reported to <see cref="TalkClientOptions.OnAttempt"/>.</summary>
/// <param name="Endpoint">The address and port tried, e.g. <c>[::1]:12345</c>.</param>
/// <param name="Outcome">Null when the attempt starts; then <c>connected</c>, <c>refused</c>, <c>timed out</c>, <c>cancelled</c>...</param>
/// <param name="Elapsed">Time since the attempt started.</param>
public sealed record ConnectAttempt(string Endpoint, string? Outcome, TimeSpan Elapsed);
