using System.Runtime.InteropServices;
using System.Net.Sockets;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>What the OS says about the process at the other end of a unix-socket connection.</summary>
internal static class PeerCredentials
{
    // SOL_SOCKET and SO_PEERCRED on Linux x64 and arm64 (the RIDs tcptalk ships for; SO_PEERCRED differs on mips and ppc).
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>
    /// The peer's pid, uid and gid from SO_PEERCRED (struct ucred: three 32-bit integers in the machine's byte order) on Linux; elsewhere, or when
    /// the call fails, <see cref="UnixPeer.Unknown"/>.
    /// </summary>
    public static UnixPeer Read(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return UnixPeer.Unknown;
        }

        Span<byte> ucred = stackalloc byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) < 12)
            {
                return UnixPeer.Unknown;
            }
        }
        catch (SocketException)
        {
            return UnixPeer.Unknown;
        }

        return new UnixPeer(
            MemoryMarshal.Read<int>(ucred),
            MemoryMarshal.Read<uint>(ucred[4..]),
            MemoryMarshal.Read<uint>(ucred[8..]));
    }
}
