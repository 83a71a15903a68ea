using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TcpTalk.Server.Tests;

/// <summary>
/// A fact that needs two network namespaces joined by a veth pair (Linux, root, <c>ip</c> from iproute2). Skipped,
/// with the reason, where the probe fails.
/// </summary>
public sealed class NetworkNamespaceFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_missing = new(NetworkNamespaces.Probe);

    public NetworkNamespaceFactAttribute()
    {
        if (s_missing.Value is { } missing)
        {
            Skip = missing;
        }
    }
}

/// <summary>
/// Two network namespaces made for one test, "server" (10.77.0.1/24) and "client" (10.77.0.2/24), joined by a veth
/// pair that exists only inside them. Sockets are created in a namespace by a thread that entered it with
/// <c>setns</c>; a socket stays in the namespace it was created in, whichever thread uses it later. Disposing
/// deletes both namespaces (and with them the veth pair). Nothing outside the test's namespaces is touched.
/// </summary>
internal sealed class NetworkNamespaces : IDisposable
{
    public const string ServerAddress = "10.77.0.1";
    public const string ClientAddress = "10.77.0.2";
    private const int CloneNewNet = 0x40000000;

    private NetworkNamespaces(string prefix)
    {
        Server = prefix + "-s";
        Client = prefix + "-c";
    }

    public string Server { get; }

    public string Client { get; }

    public static NetworkNamespaces Create()
    {
        var namespaces = new NetworkNamespaces($"tcptalk-{Environment.ProcessId}-{Random.Shared.Next(100_000)}");
        try
        {
            Ip("netns", "add", namespaces.Server);
            Ip("netns", "add", namespaces.Client);
            Ip("link", "add", "tts", "netns", namespaces.Server, "type", "veth", "peer", "name", "ttc", "netns", namespaces.Client);
            Ip("-n", namespaces.Server, "addr", "add", ServerAddress + "/24", "dev", "tts");
            Ip("-n", namespaces.Client, "addr", "add", ClientAddress + "/24", "dev", "ttc");
            foreach (var (ns, dev) in new[] { (namespaces.Server, "tts"), (namespaces.Server, "lo"), (namespaces.Client, "ttc"), (namespaces.Client, "lo") })
            {
                Ip("-n", ns, "link", "set", dev, "up");
            }

            return namespaces;
        }
        catch
        {
            namespaces.Dispose();
            throw;
        }
    }

    /// <summary>Takes the client's end of the link down: from then on every packet between the two is dropped.</summary>
    public void CutTheClientOff() => Ip("-n", Client, "link", "set", "ttc", "down");

    /// <summary>Runs <paramref name="action"/> on a thread of its own inside namespace <paramref name="name"/>.</summary>
    public static T RunIn<T>(string name, Func<T> action)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{name}");
                if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join(); // the thread ends here, and its namespace with it; its sockets keep theirs
        return error is null ? result : throw new InvalidOperationException($"in network namespace {name}: {error.Message}", error);
    }

    public void Dispose()
    {
        foreach (string name in new[] { Server, Client })
        {
            try
            {
                Ip("netns", "del", name);
            }
            catch (InvalidOperationException)
            {
                // not created
            }
        }
    }

    internal static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "needs Linux: the peer is cut off inside network namespaces";
        }

        if (Environment.UserName != "root")
        {
            return $"needs root for 'ip netns add' and setns (running as {Environment.UserName})";
        }

        try
        {
            using var namespaces = Create();
            RunIn(namespaces.Server, () => new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)).Dispose();
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"network namespaces with a veth pair do not work here: {e.Message}";
        }
    }

    private static void Ip(params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start ip");
        string error = process.StandardError.ReadToEnd().Trim();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} timed out");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed (exit {process.ExitCode}): {error}");
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int fd, int nstype);
}
