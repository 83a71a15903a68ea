using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>
/// A peer that vanishes without a FIN or RST (power loss, cable pulled) is found by TCP keepalive: the server runs
/// in one network namespace, the client in another, and the link between them goes down, so every packet is dropped.
/// </summary>
public class HalfOpenPeerTests
{
    [NetworkNamespaceFact]
    public async Task AVanishedPeerIsClosedByKeepaliveWhileALivePeerStays()
    {
        using var namespaces = NetworkNamespaces.Create();
        var log = new CapturedLog();
        var options = new TalkServerOptions
        {
            // A fake clock that never moves: no idle, message or write timeout can fire, only the kernel's keepalive.
            TimeProvider = new FakeTimeProvider(),
            KeepAliveTime = TimeSpan.FromSeconds(1),
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            KeepAliveCount = 2,
        };
        options.Listen.Add(new IPEndPoint(IPAddress.Parse(NetworkNamespaces.ServerAddress), 0));
        await using var server = new TalkServer(options, MessageSinks.None, log);
        NetworkNamespaces.RunIn(namespaces.Server, () => server.StartAsync().IsCompleted);
        var endpoint = server.BoundEndpoints[0];

        using var vanishing = NetworkNamespaces.RunIn(namespaces.Client, () => Connect(endpoint));
        using var live = NetworkNamespaces.RunIn(namespaces.Server, () => Connect(endpoint)); // answers every probe
        Assert.Equal($"Welcome {NetworkNamespaces.ClientAddress}!\0", await Loopback.ReadAsync(vanishing, frames: 1));
        Assert.Equal($"Welcome {NetworkNamespaces.ServerAddress}!\0", await Loopback.ReadAsync(live, frames: 1));
        Assert.Equal(2, server.ActiveConnections);

        namespaces.CutTheClientOff();
        var cut = Stopwatch.StartNew();
        await Poll.UntilAsync(() => server.ActiveConnections == 1, TimeSpan.FromSeconds(30));
        var found = cut.Elapsed;

        // 1 s of silence, then 2 probes 1 s apart: found in about 3 s, not at the 2 min + 50 s of the defaults.
        Assert.InRange(found, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(15));
        Assert.Contains(log.Entries, e => e.Message.Contains($"remote {NetworkNamespaces.ClientAddress}:", StringComparison.Ordinal)
                                          && e.Message.EndsWith("; peer vanished (unanswered keepalive or retransmissions)", StringComparison.Ordinal));
        Assert.Equal(1, server.ActiveConnections); // the live peer, silent just as long, answered its probes
        live.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await Loopback.ReadAsync(live));
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
    }

    private static Socket Connect(IPEndPoint endpoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect(endpoint);
        return socket;
    }
}
