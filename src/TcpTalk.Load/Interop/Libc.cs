using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TcpTalk.Load.Interop;

/// <summary>
/// Every call from the load generator into libc (Linux x86-64): sockets, epoll, <c>errno</c> values and the
/// <c>sockaddr</c> layout. Only <see cref="EpollSessionDriver"/>'s path uses it, and only where
/// <see cref="OperatingSystem.IsLinux"/> and x64 hold; the values below are that ABI's.
/// </summary>
internal static unsafe partial class Libc
{
    public const int AfInet = 2, AfInet6 = 10;
    public const int SockStream = 1, SockNonBlock = 0x800, SockCloexec = 0x80000;
    public const int EpollCloexec = 0x80000, EpollCtlAdd = 1;
    public const uint EpollIn = 0x1, EpollOut = 0x4, EpollErr = 0x8, EpollHup = 0x10, EpollRdHup = 0x2000, EpollEt = 1u << 31;
    public const int SolSocket = 1, SoError = 4, ShutWr = 1, MsgNoSignal = 0x4000;

    /// <summary>
    /// The <c>errno</c> values the load generator tells apart (Linux, asm-generic/errno*.h). The classification of the
    /// failures among them is <see cref="BenchErrorKinds"/>' table; these three steer the epoll loop itself.
    /// </summary>
    public static class Errno
    {
        public const int EPIPE = 32, EINTR = 4, EAGAIN = 11, EINPROGRESS = 115;
        public const int EADDRINUSE = 98, EADDRNOTAVAIL = 99, ECONNABORTED = 103, ECONNRESET = 104, ENOBUFS = 105;
        public const int ESHUTDOWN = 108, ETIMEDOUT = 110, ECONNREFUSED = 111;

        /// <summary>The <c>errno</c> of the last call made with <c>SetLastError</c>.</summary>
        public static int Last => Marshal.GetLastPInvokeError();
    }

    /// <summary><c>struct epoll_event</c> as x86-64 lays it out: packed, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    public struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    /// <summary><c>struct sockaddr_in</c> (16 bytes) or <c>sockaddr_in6</c> (28 bytes) for <paramref name="target"/>.</summary>
    public static byte[] SocketAddress(IPEndPoint target)
    {
        bool v4 = target.AddressFamily == AddressFamily.InterNetwork;
        var address = new byte[v4 ? 16 : 28];
        address[0] = (byte)(v4 ? AfInet : AfInet6);
        address[2] = (byte)(target.Port >> 8);
        address[3] = (byte)target.Port;
        target.Address.TryWriteBytes(address.AsSpan(v4 ? 4 : 8), out _);
        if (!v4)
        {
            BitConverter.TryWriteBytes(address.AsSpan(24), (uint)target.Address.ScopeId);
        }

        return address;
    }

    /// <summary>The address family of a <see cref="SocketAddress"/> result.</summary>
    public static int FamilyOf(byte[] socketAddress) => socketAddress.Length == 16 ? AfInet : AfInet6;

    /// <summary>The pending error of a socket (<c>SO_ERROR</c>), as after a non-blocking connect; 0: none.</summary>
    public static int PendingError(int fd)
    {
        int error = 0, size = sizeof(int);
        _ = GetSockOpt(fd, SolSocket, SoError, &error, &size);
        return error;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "getsockopt")]
    private static partial int GetSockOpt(int fd, int level, int name, int* value, int* length);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epoll, int operation, int fd, EpollEvent* registration);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, EpollEvent* events, int count, int timeout);
}
