using System.Net;
using BenchmarkDotNet.Attributes;
using TcpTalk.Protocol;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Benchmarks;

/// <summary>
/// <see cref="MessageOutput.OnMessagesAsync"/> formatting one batch of 32-byte messages (one read of a stream
/// connection) into its line buffer, written to <see cref="Stream.Null"/>: timestamp, address, escaped text, LF.
/// Reported per message.
/// </summary>
[MemoryDiagnoser]
public class MessageOutputBenchmarks
{
    private const int MessageBytes = 32;
    private MessageOutput _output = null!;
    private MessageBatch _batch;

    [Params(1, 64)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _output = new MessageOutput(Stream.Null);
        var buffer = new byte[BatchSize * (MessageBytes + 1)];
        var ranges = new (int Start, int Length)[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            var frame = buffer.AsSpan(i * (MessageBytes + 1), MessageBytes + 1);
            frame.Fill((byte)'x');
            $"s0-{i}".WriteAscii(frame);
            frame[^1] = 0;
            ranges[i] = (i * (MessageBytes + 1), MessageBytes);
        }

        var info = new ConnectionInfo(1, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 54321));
        _batch = new MessageBatch(info, DateTimeOffset.UtcNow, MessageText.Utf8, buffer, ranges);
    }

    [GlobalCleanup]
    public void Cleanup() => _output.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(OperationsPerInvoke = 64)]
    public void Batch()
    {
        // 64 messages per invoke whatever the batch size, so the figures are per message.
        for (int i = 0; i < 64 / BatchSize; i++)
        {
            _output.OnMessagesAsync(_batch, CancellationToken.None).GetAwaiter().GetResult();
        }
    }
}
