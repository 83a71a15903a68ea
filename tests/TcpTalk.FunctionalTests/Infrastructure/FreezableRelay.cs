using System.Net;
using System.Net.Sockets;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A loopback TCP relay to a target port whose path can go silent: <see cref="Freeze"/> stops every connection open
/// now from forwarding anything, either way, without closing it (no FIN, no RST), as a cable pulled or a firewall that
/// drops packets; connections accepted afterwards are relayed normally (the path came back, the old flows are lost).
/// </summary>
public sealed class FreezableRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Flow> _flows = [];
    private readonly Lock _gate = new();
    private readonly Task _accepting;

    public FreezableRelay(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The port the relay listens on.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections were accepted so far.</summary>
    public int Connections
    {
        get
        {
            lock (_gate)
            {
                return _flows.Count;
            }
        }
    }

    /// <summary>Every connection open now stops forwarding, and stays open; new ones are relayed.</summary>
    public void Freeze()
    {
        lock (_gate)
        {
            foreach (var flow in _flows)
            {
                flow.Frozen.TrySetResult();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Flow[] flows;
        lock (_gate)
        {
            flows = [.. _flows];
        }

        foreach (var flow in flows)
        {
            flow.Dispose();
        }

        await _accepting.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptSocketAsync(_stop.Token);
                var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
                }
                catch (SocketException)
                {
                    client.Dispose(); // nothing behind: refuse as the target would (a close)
                    server.Dispose();
                    continue;
                }

                var flow = new Flow(client, server);
                lock (_gate)
                {
                    _flows.Add(flow);
                }

                _ = PumpAsync(flow, client, server);
                _ = PumpAsync(flow, server, client);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PumpAsync(Flow flow, Socket from, Socket to)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = from.ReceiveAsync(buffer, _stop.Token).AsTask();
                if (await Task.WhenAny(read, flow.Frozen.Task) != read)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token); // frozen: what was read is dropped, nothing more moves
                }

                int n = await read;
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                if (flow.Frozen.Task.IsCompleted)
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }

                await to.SendAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private sealed class Flow(Socket client, Socket server) : IDisposable
    {
        public TaskCompletionSource Frozen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Dispose()
        {
            client.Dispose();
            server.Dispose();
        }
    }
}
