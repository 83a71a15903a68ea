using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// "Nothing received is ever lost", under SIGKILL: clients send without pause to <c>serve --journal X --ack</c> while
/// the server is killed at random moments and restarted on the same journal and port; afterwards every acknowledged
/// message is in the journal exactly once, under the id it was acknowledged with. The short version of
/// bench/crash.sh (hundreds of cycles).
/// </summary>
public sealed class JournalCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Cycles = 5;
    private const int Clients = 3;
    private const int Window = 16;   // unacknowledged messages a client keeps in flight
    private const int Seed = 20261125;

    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-crash-").FullName;

    private string Db => Path.Combine(_dir, "crash.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryAcknowledgedMessageSurvivesRandomKills()
    {
        int port = FreePort.Get();
        var random = new Random(Seed);
        var ledger = new Ledger();
        using var stop = new CancellationTokenSource();
        ServeProcess? server = await StartAsync(port);
        var clients = Enumerable.Range(1, Clients).Select(i => new CrashClient(i, port, ledger).RunAsync(stop.Token)).ToArray();
        try
        {
            for (int cycle = 1; cycle <= Cycles; cycle++)
            {
                // Kill while messages flow: once this life of the server has acknowledged something, at a random moment.
                await ledger.WaitForAcksAsync(ledger.AckCount + 1, TimeSpan.FromSeconds(20));
                await Task.Delay(random.Next(0, 700));
                server!.Process.Signal("KILL");
                Assert.Equal(137, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                await server.DisposeAsync();
                server = cycle < Cycles ? await StartAsync(port) : null;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(10));
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        var rows = await JournalFile.ReadAsync(Db);
        string integrity = JournalFile.IntegrityCheck(Db);
        var textById = rows.ToDictionary(r => r.Id, r => r.Text);
        var idsByText = rows.GroupBy(r => r.Text).ToDictionary(g => g.Key, g => g.Select(r => r.Id).ToList());
        var acked = ledger.Acked;
        var lost = acked.Where(a => !textById.TryGetValue(a.Value, out string? text) || text != a.Key).Select(a => $"{a.Key} (ack {a.Value})").ToList();
        var duplicates = idsByText.Where(g => g.Value.Count > 1).Select(g => $"{g.Key} (ids {string.Join(",", g.Value)})").ToList();
        var neverSent = idsByText.Keys.Where(t => !ledger.WasSent(t)).ToList();
        int unacked = idsByText.Keys.Count(t => !acked.ContainsKey(t));
        output.WriteLine($"cycles {Cycles}, seed {Seed}, clients {Clients}: sent {ledger.SentCount}, acked {acked.Count}, stored {rows.Count}, " +
                         $"acked-but-lost {lost.Count}, duplicates {duplicates.Count}, stored-but-unacked {unacked}, integrity_check {integrity}");

        Assert.Empty(ledger.Problems);
        Assert.True(acked.Count >= Cycles, $"only {acked.Count} acknowledgements: the clients hardly ran");
        Assert.Empty(lost);
        Assert.Empty(duplicates);
        Assert.Empty(neverSent);
        Assert.Equal("ok", integrity);
    }

    private Task<ServeProcess> StartAsync(int port) =>
        Tcptalk.ServeAsync("--listen", $"127.0.0.1:{port}", "--journal", Db, "--ack");

    /// <summary>What the clients sent and which journal id each acknowledged message got.</summary>
    private sealed class Ledger
    {
        private readonly ConcurrentDictionary<string, long> _acked = new();
        private readonly ConcurrentDictionary<string, byte> _sent = new();
        private readonly ConcurrentQueue<string> _problems = new();
        private int _ackCount;

        public int AckCount => Volatile.Read(ref _ackCount);

        public int SentCount => _sent.Count;

        public IReadOnlyDictionary<string, long> Acked => _acked;

        public IReadOnlyCollection<string> Problems => _problems;

        public bool WasSent(string text) => _sent.ContainsKey(text);

        public void Sent(string text) => _sent[text] = 0;

        public void Ack(string text, long id)
        {
            if (!_acked.TryAdd(text, id))
            {
                Problem($"'{text}' acknowledged twice");
            }

            Interlocked.Increment(ref _ackCount);
        }

        public void Problem(string problem) => _problems.Enqueue(problem);

        public async Task WaitForAcksAsync(int count, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (AckCount < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no acknowledgement within {timeout.TotalSeconds} s (problems: {string.Join(" | ", _problems)})");
                await Task.Delay(10);
            }
        }
    }

    /// <summary>
    /// Sends <c>c{id}-m{n}</c> messages without pause, keeping <see cref="Window"/> unacknowledged; an ack belongs to
    /// the oldest message of its connection still waiting (the server acknowledges in order). When the connection
    /// breaks it reconnects and goes on with new messages: nothing is ever resent.
    /// </summary>
    private sealed class CrashClient(int id, int port, Ledger ledger)
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
            using var window = new SemaphoreSlim(Window, Window);
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
}
