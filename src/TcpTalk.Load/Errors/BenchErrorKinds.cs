using System.Net.Sockets;
using static TcpTalk.Load.Interop.Libc.Errno;

namespace TcpTalk.Load;

/// <summary>
/// Names and classification of <see cref="BenchErrorKind"/>: one table of the socket errors that have a kind of their
/// own, by <c>errno</c> (the epoll path) and by <see cref="SocketError"/> (the <see cref="Socket"/> path), so both
/// paths count the same failure as the same kind, as <c>tcpload</c> classifies the errno values.
/// </summary>
internal static class BenchErrorKinds
{
    /// <summary>Every kind, in report order.</summary>
    public static IReadOnlyList<BenchErrorKind> All { get; } = Enum.GetValues<BenchErrorKind>();

    /// <summary>
    /// The errors with a kind of their own: each Linux <c>errno</c>, the <see cref="SocketError"/> .NET reports for it,
    /// and its kind. Everything else is <see cref="BenchErrorKind.Other"/>.
    /// </summary>
    internal static readonly (int Errno, SocketError Error, BenchErrorKind Kind)[] Table =
    [
        (ECONNREFUSED, SocketError.ConnectionRefused, BenchErrorKind.Refused),
        (ECONNRESET, SocketError.ConnectionReset, BenchErrorKind.Reset),
        (ECONNABORTED, SocketError.ConnectionAborted, BenchErrorKind.Reset),
        (EPIPE, SocketError.Shutdown, BenchErrorKind.Reset), // .NET reports a broken pipe as Shutdown
        (ESHUTDOWN, SocketError.Shutdown, BenchErrorKind.Reset),
        (ETIMEDOUT, SocketError.TimedOut, BenchErrorKind.Timeout),
        (EADDRNOTAVAIL, SocketError.AddressNotAvailable, BenchErrorKind.Address),
        (EADDRINUSE, SocketError.AddressAlreadyInUse, BenchErrorKind.Address),
        (ENOBUFS, SocketError.NoBufferSpaceAvailable, BenchErrorKind.Address),
    ];

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

    /// <summary>The kind of a socket error reported by .NET.</summary>
    public static BenchErrorKind Classify(SocketError error)
    {
        foreach (var row in Table)
        {
            if (row.Error == error)
            {
                return row.Kind;
            }
        }

        return BenchErrorKind.Other;
    }

    /// <summary>The kind of a Linux <c>errno</c> value from a failed socket call.</summary>
    public static BenchErrorKind ClassifyErrno(int errno)
    {
        foreach (var row in Table)
        {
            if (row.Errno == errno)
            {
                return row.Kind;
            }
        }

        return BenchErrorKind.Other;
    }
}
