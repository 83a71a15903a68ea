using System.Buffers;
using System.Net;
using BenchmarkDotNet.Attributes;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Benchmarks;

/// <summary>
/// The hot path of <c>tcptalk serve</c>'s output: <see cref="MessageLineWriter.Write(in MessageBatch, IBufferWriter{byte})"/>
/// formatting one batch of 32-byte messages (one read of a stream connection) into a reused line buffer: timestamp,
/// address, escaped text, LF (the CLI's MessageOutput does exactly this under its lock, then hands the buffer to its
/// writer thread). Reported per message, for both formats.
/// </summary>
[MemoryDiagnoser]
public class MessageOutputBenchmarks
{
    private const int MessageBytes = 32;
    private readonly ArrayBufferWriter<byte> _buffer = new(256 * 1024);
    private MessageLineWriter _lines = null!;
    private MessageBatch _batch;

    [Params(1, 64)]
    public int BatchSize { get; set; }

    [Params(MessageOutputFormat.Text, MessageOutputFormat.Json)]
    public MessageOutputFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lines = new MessageLineWriter(Format);
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
        _batch = new MessageBatch(info, DateTimeOffset.UtcNow, MessageEncodings.Utf8, buffer, ranges);
    }

    [GlobalCleanup]
    public void Cleanup() => _lines.Dispose();

    [Benchmark(OperationsPerInvoke = 64)]
    public void Batch()
    {
        // 64 messages per invoke whatever the batch size, so the figures are per message.
        _buffer.ResetWrittenCount();
        for (int i = 0; i < 64 / BatchSize; i++)
        {
            _lines.Write(_batch, _buffer);
        }
    }
}
