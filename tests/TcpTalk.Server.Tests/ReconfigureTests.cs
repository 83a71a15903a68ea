using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server.Tests;

/// <summary>
/// <see cref="TalkServer.Reconfigure"/>: connections accepted afterwards get the new options, those already open keep
/// the ones they were accepted with, and what the listeners were bound with cannot change.
/// </summary>
public class ReconfigureTests
{
    private static async Task<TalkServer> StartAsync(Action<TalkServerOptions> configure)
    {
        var options = new TalkServerOptions();
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        configure(options);
        var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        return server;
    }

    /// <summary>New options with everything the listeners were bound with taken from the server's, changed by <paramref name="change"/>.</summary>
    private static TalkServerOptions Next(TalkServer server, Action<TalkServerOptions> change)
    {
        var next = new TalkServerOptions();
        next.CopyRestartOnlyFrom(server.Options);
        change(next);
        return next;
    }

    private static async Task<Socket> ConnectAsync(TalkServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.BoundEndpoints[0]);
        return socket;
    }

    [Fact]
    public async Task NewConnectionsGetTheNewGreetingAndMessageLimitWhileAnOpenOneKeepsItsLimit()
    {
        await using var server = await StartAsync(o => o.MaxMessageBytes = 100);
        using var open = await ConnectAsync(server);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(open, frames: 1));

        server.Reconfigure(Next(server, o => { o.Greeting = "Hi {address}"; o.MaxMessageBytes = 5; }));

        using var fresh = await ConnectAsync(server);
        Assert.Equal("Hi 127.0.0.1\0", await Loopback.ReadAsync(fresh, frames: 1));
        await fresh.SendAsync("too long\0"u8.ToArray(), SocketFlags.None);
        Assert.StartsWith("error: message longer than 5 bytes", await Loopback.ReadAsync(fresh), StringComparison.Ordinal);

        await open.SendAsync("too long\0"u8.ToArray(), SocketFlags.None); // under its own limit of 100
        Assert.True(await Loopback.StaysOpenAsync(open));
    }

    [Fact]
    public async Task ADenyAddedByReconfigureRefusesNewConnectionsOnly()
    {
        await using var server = await StartAsync(_ => { });
        using var open = await ConnectAsync(server);
        await Loopback.ReadAsync(open, frames: 1);

        server.Reconfigure(Next(server, o => o.Deny.Add(System.Net.IPNetwork.Parse("127.0.0.0/8"))));

        using var refused = await ConnectAsync(server);
        Assert.Equal("", await Loopback.ReadAsync(refused));
        Assert.Equal(1, server.RejectedConnections);
        Assert.True(await Loopback.StaysOpenAsync(open));
    }

    [Fact]
    public async Task APerAddressLimitSetByReconfigureCountsTheConnectionsAlreadyOpen()
    {
        await using var server = await StartAsync(_ => { });
        using var first = await ConnectAsync(server);
        using var second = await ConnectAsync(server);
        await Loopback.ReadAsync(first, frames: 1);
        await Loopback.ReadAsync(second, frames: 1);

        server.Reconfigure(Next(server, o => o.MaxConnectionsPerAddress = 2));

        using var third = await ConnectAsync(server);
        Assert.Equal("error: too many connections from 127.0.0.1: 2 open (the limit)\0", await Loopback.ReadAsync(third));
    }

    [Fact]
    public async Task AShorterIdleTimeoutAppliesToNewConnectionsAndNotToOpenOnes()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.IdleTimeout = TimeSpan.FromSeconds(60); });
        using var open = await ConnectAsync(server);
        await Loopback.ReadAsync(open, frames: 1);

        server.Reconfigure(Next(server, o => o.IdleTimeout = TimeSpan.FromSeconds(10)));
        using var fresh = await ConnectAsync(server);
        await Loopback.ReadAsync(fresh, frames: 1);

        clock.Advance(TimeSpan.FromSeconds(12));
        Assert.Equal("error: no complete message for 10s (idle timeout)\0", await Loopback.ReadAsync(fresh));
        Assert.True(await Loopback.StaysOpenAsync(open));
        clock.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal("error: no complete message for 1m (idle timeout)\0", await Loopback.ReadAsync(open));
    }

    [Fact]
    public async Task ATimeoutTurnedOnByReconfigureStartsTheSweep()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.IdleTimeout = TimeSpan.Zero; o.MessageTimeout = TimeSpan.Zero; o.WriteTimeout = TimeSpan.Zero; });

        server.Reconfigure(Next(server, o => { o.IdleTimeout = TimeSpan.FromSeconds(5); o.MessageTimeout = TimeSpan.Zero; o.WriteTimeout = TimeSpan.Zero; }));
        using var client = await ConnectAsync(server);
        await Loopback.ReadAsync(client, frames: 1);
        clock.Advance(TimeSpan.FromSeconds(7));
        Assert.Equal("error: no complete message for 5s (idle timeout)\0", await Loopback.ReadAsync(client));
    }

    [Fact]
    public async Task ReconfigureRefusesWhatTheListenersWereBoundWithAndKeepsTheOldOptions()
    {
        await using var server = await StartAsync(_ => { });
        var before = server.Options;
        var next = Next(server, o => { o.Framing = FramingMode.Line; o.Greeting = "changed"; });

        Assert.Equal(["Framing"], server.RestartOnlyChanges(next));
        var error = Assert.Throws<ArgumentException>(() => server.Reconfigure(next));
        Assert.Equal("Framing cannot change while the server runs (restart it)", error.Message);
        Assert.Same(before, server.Options);
        using var client = await ConnectAsync(server);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client, frames: 1));
    }

    [Fact]
    public async Task ReconfigureRefusesOptionsOutOfRange()
    {
        await using var server = await StartAsync(_ => { });
        var error = Assert.Throws<ArgumentException>(() => server.Reconfigure(Next(server, o => o.MaxConnections = -1)));
        Assert.Contains("MaxConnections", error.Message, StringComparison.Ordinal);
        Assert.Equal(["Listen", "Port"], server.RestartOnlyChanges(new TalkServerOptions { Port = 1 }).Take(2));
    }
}
