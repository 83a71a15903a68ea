using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TcpTalk.Client.Tests;

/// <summary>Upper bounds for every wait in these tests, so that a broken client fails a test instead of hanging it.</summary>
internal static class Bounds
{
    /// <summary>The longest any single step may take before the test gives up.</summary>
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(Step);

    public static Task Bounded(this Task task) => task.WaitAsync(Step);

    public static Task<T> Bounded<T>(this ValueTask<T> task) => task.AsTask().WaitAsync(Step);
}

/// <summary>A listening socket on a loopback address, port 0 unless told, for an in-test server.</summary>
internal sealed class TestListener : IDisposable
{
    private TestListener(Socket socket)
    {
        Socket = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public Socket Socket { get; }

    public IPEndPoint EndPoint { get; }

    public int Port => EndPoint.Port;

    public static TestListener Start(IPAddress address, int port = 0, int backlog = 16)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(backlog);
            return new TestListener(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public Task<Socket> AcceptAsync() => Socket.AcceptAsync().Bounded();

    /// <summary>Runs <paramref name="serve"/> on the next accepted connection, then closes it.</summary>
    public Task ServeOneAsync(Func<Socket, Task> serve) => Task.Run(async () =>
    {
        using var connection = await AcceptAsync();
        await serve(connection);
    });

    public void Dispose() => Socket.Dispose();
}

/// <summary>
/// A loopback address and port that never answers a SYN: a listener with backlog 1 that never accepts, whose accept
/// queue is filled first. Linux then drops further SYNs, so a connect neither succeeds nor is refused.
/// </summary>
internal sealed class BlackHole : IDisposable
{
    private readonly TestListener _listener;
    private readonly List<Socket> _fillers;

    private BlackHole(TestListener listener, List<Socket> fillers)
    {
        _listener = listener;
        _fillers = fillers;
    }

    public IPEndPoint EndPoint => _listener.EndPoint;

    /// <summary>The black hole, or null when this system answers SYNs to a full queue (then it cannot be built here).</summary>
    public static async Task<BlackHole?> TryCreateAsync(IPAddress address)
    {
        var listener = TestListener.Start(address, backlog: 1);
        var fillers = new List<Socket>();
        for (int i = 0; i < 8; i++)
        {
            // Linux queues backlog + 1 = 2 connections. Until they are in, wait generously: on a busy machine a short
            // wait can expire before a connect that did succeed is reported, which would pass for a dropped SYN.
            var wait = fillers.Count < 2 ? TimeSpan.FromSeconds(3) : TimeSpan.FromMilliseconds(300);
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            using var probe = new CancellationTokenSource(wait);
            try
            {
                await socket.ConnectAsync(listener.EndPoint, probe.Token);
                fillers.Add(socket);
            }
            catch (OperationCanceledException)
            {
                // This SYN went unanswered: the queue is full and the hole works.
                socket.Dispose();
                return new BlackHole(listener, fillers);
            }
        }

        fillers.ForEach(s => s.Dispose());
        listener.Dispose();
        return null;
    }

    public void Dispose()
    {
        _fillers.ForEach(s => s.Dispose());
        _listener.Dispose();
    }
}

/// <summary>A resolver that answers from a list and records the names asked for; never touches DNS.</summary>
internal sealed class FakeResolver(params IPAddress[] addresses) : IHostResolver
{
    public ConcurrentQueue<string> Asked { get; } = new();

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Asked.Enqueue(host);
        return Task.FromResult(addresses);
    }
}

/// <summary>Collects <see cref="ConnectAttempt"/> reports with the time each arrived.</summary>
internal sealed class AttemptLog
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(ConnectAttempt Attempt, TimeSpan At)> _entries = [];

    public void Add(ConnectAttempt attempt)
    {
        lock (_entries)
        {
            _entries.Add((attempt, _clock.Elapsed));
        }
    }

    public List<(ConnectAttempt Attempt, TimeSpan At)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>"endpoint outcome" per report, "endpoint start" when the outcome is null.</summary>
    public List<string> Lines => Entries.Select(e => $"{e.Attempt.Endpoint} {e.Attempt.Outcome ?? "start"}").ToList();
}

internal static class Wire
{
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    public static Task SendAsync(this Socket socket, string text) => socket.SendAsync(Bytes(text));

    public static async Task SendAsync(this Socket socket, byte[] bytes)
    {
        int sent = await socket.SendAsync(bytes, SocketFlags.None).Bounded();
        Assert.Equal(bytes.Length, sent);
    }

    /// <summary>Reads and discards until the peer closes or resets (bounded in time).</summary>
    public static Task DrainAsync(this Socket socket) => socket.ReadUntilClosedAsync();
}
