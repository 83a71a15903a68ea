using System.Globalization;
using System.Net.Sockets;

namespace TcpTalk.Server;

/// <summary>A socket a process inherited from systemd socket activation, with the name its socket unit gave it.</summary>
/// <param name="Socket">The socket (listening, for a ListenStream= unit), owned by the caller from now on.</param>
/// <param name="Name">Its FileDescriptorName= (LISTEN_FDNAMES), or "unknown" when systemd named none.</param>
public sealed record InheritedSocket(Socket Socket, string Name);

/// <summary>
/// Takes the sockets systemd passes to a socket-activated service (sd_listen_fds(3)): LISTEN_FDS descriptors from 3
/// on, meant for this process when LISTEN_PID is its PID, named by LISTEN_FDNAMES. Linux only; anywhere else, or
/// when the variables are absent or meant for another process, there are none.
/// </summary>
public static class SystemdSockets
{
    /// <summary>The first inherited descriptor (SD_LISTEN_FDS_START): 0-2 are stdin, stdout and stderr.</summary>
    public const int FirstDescriptor = 3;

    /// <summary>
    /// Wraps every inherited descriptor as a <see cref="Socket"/> and removes the three variables from the environment
    /// (as sd_listen_fds(1) does) so that child processes do not take them too. Call it once, at startup.
    /// </summary>
    /// <exception cref="FormatException">LISTEN_FDS is set for this process but is not a non-negative number.</exception>
    /// <exception cref="SocketException">An inherited descriptor is not a socket.</exception>
    public static IReadOnlyList<InheritedSocket> Take()
    {
        if (!OperatingSystem.IsLinux())
        {
            return [];
        }

        var descriptors = Parse(
            Environment.GetEnvironmentVariable("LISTEN_PID"),
            Environment.GetEnvironmentVariable("LISTEN_FDS"),
            Environment.GetEnvironmentVariable("LISTEN_FDNAMES"),
            Environment.ProcessId);
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        return Wrap(descriptors);
    }

    /// <summary>The descriptors and names the variables describe for process <paramref name="processId"/>; empty when they are not for it.</summary>
    internal static IReadOnlyList<(int Descriptor, string Name)> Parse(string? listenPid, string? listenFds, string? listenFdNames, int processId)
    {
        if (string.IsNullOrEmpty(listenFds))
        {
            return [];
        }

        // systemd always sets LISTEN_PID; a value for another process means the variables were inherited by mistake
        // (e.g. from a parent that was itself socket-activated), and those descriptors are not ours.
        if (listenPid is not null
            && (!int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid != processId))
        {
            return [];
        }

        if (!int.TryParse(listenFds, NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            throw new FormatException($"LISTEN_FDS is '{listenFds}', not a number of descriptors.");
        }

        string[] names = listenFdNames?.Split(':') ?? [];
        var result = new List<(int, string)>(count);
        for (int i = 0; i < count; i++)
        {
            string name = names.Length == count && names[i].Length > 0 ? names[i] : "unknown";
            result.Add((FirstDescriptor + i, name));
        }

        return result;
    }

    /// <summary>Wraps descriptors as sockets that own them; on a failure, closes the ones wrapped so far.</summary>
    internal static IReadOnlyList<InheritedSocket> Wrap(IReadOnlyList<(int Descriptor, string Name)> descriptors)
    {
        var sockets = new List<InheritedSocket>(descriptors.Count);
        try
        {
            foreach (var (descriptor, name) in descriptors)
            {
                sockets.Add(new InheritedSocket(new Socket(new SafeSocketHandle(descriptor, ownsHandle: true)), name));
            }
        }
        catch
        {
            sockets.ForEach(s => s.Socket.Dispose());
            throw;
        }

        return sockets;
    }
}
