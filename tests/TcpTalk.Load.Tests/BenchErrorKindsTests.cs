using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TcpTalk.Load;
using TcpTalk.Load.Interop;

namespace TcpTalk.Load.Tests;

/// <summary>
/// The one table that sorts socket failures into <see cref="BenchErrorKind"/>s, by errno (the epoll path) and by
/// <see cref="SocketError"/> (the Socket path), and the two load paths classifying a real refused connection alike.
/// </summary>
public class BenchErrorKindsTests
{
    [Theory]
    [InlineData(111, SocketError.ConnectionRefused, "refused")]
    [InlineData(104, SocketError.ConnectionReset, "reset")]
    [InlineData(103, SocketError.ConnectionAborted, "reset")]
    [InlineData(32, SocketError.Shutdown, "reset")]
    [InlineData(108, SocketError.Shutdown, "reset")]
    [InlineData(110, SocketError.TimedOut, "timeout")]
    [InlineData(99, SocketError.AddressNotAvailable, "addr")]
    [InlineData(98, SocketError.AddressAlreadyInUse, "addr")]
    [InlineData(105, SocketError.NoBufferSpaceAvailable, "addr")]
    public void ErrnoAndSocketErrorOfTheSameFailureAreTheSameKind(int errno, SocketError error, string kind)
    {
        Assert.Equal(kind, BenchErrorKinds.ClassifyErrno(errno).ToName());
        Assert.Equal(kind, BenchErrorKinds.Classify(error).ToName());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]   // EINTR: the epoll loop retries it, it is no failure
    [InlineData(11)]  // EAGAIN: the epoll loop waits on it
    [InlineData(115)] // EINPROGRESS: a non-blocking connect under way
    [InlineData(13)]  // EACCES
    [InlineData(-1)]
    public void OtherErrnoValuesAreOther(int errno) => Assert.Equal(BenchErrorKind.Other, BenchErrorKinds.ClassifyErrno(errno));

    [Theory]
    [InlineData(SocketError.WouldBlock)]
    [InlineData(SocketError.HostNotFound)]
    [InlineData(SocketError.AccessDenied)]
    [InlineData(SocketError.SocketError)]
    public void OtherSocketErrorsAreOther(SocketError error) => Assert.Equal(BenchErrorKind.Other, BenchErrorKinds.Classify(error));

    [Fact]
    public void EveryTableRowIsOneErrnoOnceAndItsKindIsNotOther()
    {
        Assert.Equal(BenchErrorKinds.Table.Length, BenchErrorKinds.Table.Select(r => r.Errno).Distinct().Count());
        Assert.All(BenchErrorKinds.Table, r => Assert.NotEqual(BenchErrorKind.Other, r.Kind));
    }

    [Theory]
    [InlineData(Libc.Errno.ECONNREFUSED, "Connection refused")]
    [InlineData(Libc.Errno.ECONNRESET, "Connection reset by peer")]
    [InlineData(Libc.Errno.ECONNABORTED, "Software caused connection abort")]
    [InlineData(Libc.Errno.EPIPE, "Broken pipe")]
    [InlineData(Libc.Errno.ESHUTDOWN, "Cannot send after transport endpoint shutdown")]
    [InlineData(Libc.Errno.ETIMEDOUT, "Connection timed out")]
    [InlineData(Libc.Errno.EADDRNOTAVAIL, "Cannot assign requested address")]
    [InlineData(Libc.Errno.EADDRINUSE, "Address already in use")]
    [InlineData(Libc.Errno.ENOBUFS, "No buffer space available")]
    [InlineData(Libc.Errno.EINTR, "Interrupted system call")]
    [InlineData(Libc.Errno.EAGAIN, "Resource temporarily unavailable")]
    [InlineData(Libc.Errno.EINPROGRESS, "Operation now in progress")]
    public void TheErrnoValuesAreThoseOfThisLibc(int errno, string message)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the values are Linux's; elsewhere the epoll path never runs
        }

        Assert.Equal(message, Marshal.GetPInvokeErrorMessage(errno));
    }

    [Theory]
    [InlineData(BenchMode.Session)] // on Linux x64: the epoll path, errno
    [InlineData(BenchMode.Hold)]    // everywhere: the Socket path, SocketError
    public async Task ARefusedConnectionIsRefusedOnEitherPath(BenchMode mode)
    {
        var closed = ClosedLoopbackPort();
        var options = new BenchOptions
        {
            Host = "127.0.0.1",
            Port = closed.Port,
            Mode = mode,
            Connections = 2,
            // Session: four refused sessions. Hold: the run ends when both connections have failed, long before the window.
            Duration = mode == BenchMode.Hold ? TimeSpan.FromSeconds(20) : null,
            Messages = mode == BenchMode.Hold ? null : 4,
            Timeout = TimeSpan.FromSeconds(20),
        };

        var result = await new BenchRun(options, new LoadTarget(closed, Tls: null)).RunAsync(CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(result.Errors["refused"] >= 2, string.Join(", ", result.Errors.Select(e => $"{e.Key} {e.Value}")) + $", attempted {result.Attempted}, established {result.Established}");
        Assert.Equal(result.Errors["refused"], result.Errors["total"]);
    }

    /// <summary>A loopback port nothing listens on: bound, then closed, so a connect is refused.</summary>
    private static IPEndPoint ClosedLoopbackPort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)listener.LocalEndPoint!;
    }
}
