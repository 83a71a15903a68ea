using System.Collections.Concurrent;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>What the clients sent and which journal id each acknowledged message got.</summary>
public sealed class AckLedger
{
    private readonly ConcurrentDictionary<string, long> _acked = new();
    private readonly ConcurrentDictionary<string, byte> _sent = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private int _ackCount;

    public int AckCount => Volatile.Read(ref _ackCount);

    public int SentCount => _sent.Count;

    public IReadOnlyDictionary<string, long> Acked => _acked;

    /// <summary>What broke the protocol: an ack with no message waiting, an unexpected frame or greeting.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    /// <summary>The <c>error:</c> frames received (the server closes the connection after each).</summary>
    public IReadOnlyCollection<string> Errors => _errors;

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

    public void Error(string frame) => _errors.Enqueue(frame);

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
