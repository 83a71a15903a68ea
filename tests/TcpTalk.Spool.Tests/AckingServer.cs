using System.Net;
using System.Net.Sockets;
using TcpTalk.Journal;
using TcpTalk.Messages;
using TcpTalk.Server;

namespace TcpTalk.Spool.Tests;

/// <summary>A real <see cref="TalkServer"/> with <c>--ack</c> and a real journal on a loopback port, restartable on the same port and journal.</summary>
internal sealed class AckingServer : IAsyncDisposable
{
    private readonly string _journalPath;
    private readonly Action<TalkServerOptions>? _configure;
    private TalkServer? _server;
    private SqliteMessageJournal? _journal;

    private AckingServer(string journalPath, int port, Action<TalkServerOptions>? configure)
    {
        _journalPath = journalPath;
        Port = port;
        _configure = configure;
    }

    public int Port { get; }

    /// <summary>The connections the running server serves now (0 when stopped).</summary>
    public int ActiveConnections => _server?.ActiveConnections ?? 0;

    /// <summary>A free port with nothing listening on it yet.</summary>
    public static AckingServer NotStarted(string journalPath, Action<TalkServerOptions>? configure = null)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return new AckingServer(journalPath, ((IPEndPoint)socket.LocalEndPoint!).Port, configure);
    }

    public static async Task<AckingServer> StartAsync(string journalPath, Action<TalkServerOptions>? configure = null)
    {
        var server = NotStarted(journalPath, configure);
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        _journal = SqliteMessageJournal.Open(_journalPath);
        var options = new TalkServerOptions { Journal = _journal, Acknowledge = true };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, Port));
        _configure?.Invoke(options);
        _server = new TalkServer(options, MessageSinks.None);
        await _server.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }

        if (_journal is not null)
        {
            await _journal.DisposeAsync();
            _journal = null;
        }
    }

    /// <summary>The texts stored in the journal, in id order (the server must be stopped).</summary>
    public async Task<List<string>> StoredAsync()
    {
        using var reader = JournalReader.Open(_journalPath);
        var texts = new List<string>();
        await foreach (var record in reader.QueryAsync(new JournalQuery()))
        {
            texts.Add(record.Text);
        }

        return texts;
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
