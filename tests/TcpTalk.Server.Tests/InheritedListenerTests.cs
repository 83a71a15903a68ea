using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Server.Tests;

/// <summary>Listeners passed in (systemd socket activation): served as they are, nothing bound, named "(from systemd)".</summary>
public sealed class InheritedListenerTests
{
    private static Socket ListeningTcp()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen();
        return socket;
    }

    [Fact]
    public async Task InheritedListenerIsServedInsteadOfPort()
    {
        var inherited = ListeningTcp();
        var endpoint = (IPEndPoint)inherited.LocalEndPoint!;
        var log = new ListeningLog();
        var options = new TalkServerOptions { Port = endpoint.Port }; // would collide if the server bound it too
        options.InheritedListeners.Add(inherited);
        await using var server = new TalkServer(options, MessageSinks.None, log);
        await server.StartAsync();

        Assert.Equal([endpoint], server.BoundEndpoints);
        Assert.Equal([$"Listening on 127.0.0.1:{endpoint.Port} (from systemd)"], log.Lines);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endpoint);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client, frames: 1));
    }

    [Fact]
    public async Task InheritedListenerIsClosedAtStop()
    {
        var inherited = ListeningTcp();
        var endpoint = (IPEndPoint)inherited.LocalEndPoint!;
        var options = new TalkServerOptions();
        options.InheritedListeners.Add(inherited);
        var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        await server.DisposeAsync();

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var error = await Assert.ThrowsAsync<SocketException>(() => client.ConnectAsync(endpoint));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task InheritedSocketThatDoesNotListenIsRefused()
    {
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // Accept=yes would hand over a connection, not a listener
        var options = new TalkServerOptions();
        options.InheritedListeners.Add(bound);
        await using var server = new TalkServer(options, MessageSinks.None);
        var error = await Assert.ThrowsAsync<ListenException>(() => server.StartAsync());
        Assert.StartsWith("the inherited socket ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith(" is not a listening stream socket (the socket unit needs ListenStream= and Accept=no)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ListenBesideInheritedListenersIsAProblem()
    {
        using var inherited = ListeningTcp();
        var options = new TalkServerOptions();
        options.InheritedListeners.Add(inherited);
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        var problem = Assert.Single(options.FindProblems());
        Assert.StartsWith("Listen must be empty when the server serves inherited listeners", problem.Message, StringComparison.Ordinal);
    }

    /// <summary>Collects the server's "Listening on" lines.</summary>
    private sealed class ListeningLog : ILoggerFactory, ILogger
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string line = formatter(state, exception);
            if (line.StartsWith("Listening on", StringComparison.Ordinal))
            {
                lock (_lines)
                {
                    _lines.Add(line);
                }
            }
        }
    }
}
