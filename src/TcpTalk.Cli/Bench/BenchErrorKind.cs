using System.Net.Sockets;

namespace TcpTalk.Cli.Bench;

/// <summary>
/// Why a load connection failed, in <c>tcpload</c>'s categories (plus <see cref="Tls"/>). Counted, never fatal: the
/// run goes on, and the summary reports each kind.
/// </summary>
internal enum BenchErrorKind
{
    /// <summary>The server refused the connection (nothing listening, or its backlog is full).</summary>
    Refused,

    /// <summary>The server reset the connection (or the pipe broke).</summary>
    Reset,

    /// <summary>No progress within the per-operation timeout, or not finished when the run ended.</summary>
    Timeout,

    /// <summary>The greeting was longer than the limit without its terminator.</summary>
    BadGreeting,

    /// <summary>The server closed the connection before the greeting, or while messages were still being sent.</summary>
    Closed,

    /// <summary>No local address or port was left (ephemeral ports exhausted).</summary>
    Address,

    /// <summary>The TLS handshake failed.</summary>
    Tls,

    /// <summary>Anything else.</summary>
    Other,
}

/// <summary>Names and classification of <see cref="BenchErrorKind"/>.</summary>
internal static class BenchErrorKinds
{
    /// <summary>Every kind, in report order.</summary>
    public static IReadOnlyList<BenchErrorKind> All { get; } = Enum.GetValues<BenchErrorKind>();

    /// <summary>The name in reports and JSON, as <c>tcpload</c> spells it where it has the kind.</summary>
    public static string ToName(this BenchErrorKind kind) => kind switch
    {
        BenchErrorKind.Refused => "refused",
        BenchErrorKind.Reset => "reset",
        BenchErrorKind.Timeout => "timeout",
        BenchErrorKind.BadGreeting => "bad_greeting",
        BenchErrorKind.Closed => "closed",
        BenchErrorKind.Address => "addr",
        BenchErrorKind.Tls => "tls",
        _ => "other",
    };

    /// <summary>The kind of a socket error, as <c>tcpload</c> classifies the matching errno values.</summary>
    public static BenchErrorKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => BenchErrorKind.Refused,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => BenchErrorKind.Reset,
        SocketError.TimedOut => BenchErrorKind.Timeout,
        SocketError.AddressNotAvailable or SocketError.AddressAlreadyInUse or SocketError.NoBufferSpaceAvailable => BenchErrorKind.Address,
        _ => BenchErrorKind.Other,
    };
}
