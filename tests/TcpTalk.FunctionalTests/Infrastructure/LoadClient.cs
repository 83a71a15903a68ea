using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// Sends <c>c{id}-m{n}</c> messages without pause, keeping <paramref name="maxInFlight"/> unacknowledged; an ack belongs to
/// the oldest message of its connection still waiting (the server acknowledges in order). When the connection
/// breaks it reconnects and goes on with new messages: nothing is ever resent.
/// </summary>
public sealed class LoadClient(int id, int port, AckLedger ledger, int maxInFlight = 16)
{
    private long _sequence;

    public async Task RunAsync(CancellationToken stop)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, port);
        while (!stop.IsCancellationRequested)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var connect = CancellationTokenSource.CreateLinkedTokenSource(stop);
                connect.CancelAfter(TimeSpan.FromSeconds(2));
                await socket.ConnectAsync(endpoint, connect.Token);
                await SessionAsync(socket, stop);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The server was killed or is starting: try again shortly.
            }

            try
            {
                await Task.Delay(10, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SessionAsync(Socket socket, CancellationToken stop)
    {
        var waiting = new ConcurrentQueue<string>();
        using var window = new SemaphoreSlim(maxInFlight, maxInFlight);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var reading = ReadAsync(socket, waiting, window, session.Token);
        var writing = WriteAsync(socket, waiting, window, session.Token);
        await Task.WhenAny(reading, writing);
        await session.CancelAsync();
        try
        {
            await Task.WhenAll(reading, writing);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task WriteAsync(Socket socket, ConcurrentQueue<string> waiting, SemaphoreSlim window, CancellationToken cancellationToken)
    {
        while (true)
        {
            await window.WaitAsync(cancellationToken);
            string text = $"c{id}-m{++_sequence}";
            waiting.Enqueue(text);
            ledger.Sent(text);
            await socket.SendAsync(Encoding.ASCII.GetBytes(text + "\0"), SocketFlags.None, cancellationToken);
        }
    }

    private async Task ReadAsync(Socket socket, ConcurrentQueue<string> waiting, SemaphoreSlim window, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[16 * 1024];
        int filled = 0;
        bool greeted = false;
        while (true)
        {
            int received = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (received == 0)
            {
                return; // killed: the socket is closed
            }

            filled += received;
            int start = 0;
            int end;
            while ((end = Array.IndexOf(buffer, (byte)0, start, filled - start)) >= 0)
            {
                string frame = Encoding.ASCII.GetString(buffer, start, end - start);
                start = end + 1;
                if (!greeted)
                {
                    greeted = true;
                    if (frame != "Welcome 127.0.0.1!")
                    {
                        ledger.Problem($"greeting '{frame}'");
                    }
                }
                else if (frame.StartsWith("ack ", StringComparison.Ordinal) && long.TryParse(frame.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture, out long journalId))
                {
                    if (waiting.TryDequeue(out string? text))
                    {
                        ledger.Ack(text, journalId);
                        window.Release();
                    }
                    else
                    {
                        ledger.Problem($"'{frame}' with no message waiting for it");
                    }
                }
                else if (frame.StartsWith("error: ", StringComparison.Ordinal))
                {
                    ledger.Error(frame);
                }
                else
                {
                    ledger.Problem($"unexpected frame '{frame}'");
                }
            }

            Buffer.BlockCopy(buffer, start, buffer, 0, filled - start);
            filled -= start;
        }
    }
}
