using System.Buffers;
using BenchmarkDotNet.Attributes;
using TcpTalk.Protocol;

namespace TcpTalk.Benchmarks;

/// <summary>
/// <see cref="MessageFramer.TryReadMessage(ReadOnlySpan{byte}, out int, out int)"/> over one buffer of many 32-byte
/// messages, as one busy read of a stream connection produces: reported per message (OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class FramerBenchmarks
{
    private const int Messages = 1024;
    private const int MessageBytes = 32;
    private byte[] _buffer = [];
    private MessageFramer _framer = new();

    [Params(FramingMode.Nul, FramingMode.Line)]
    public FramingMode Framing { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _framer = new MessageFramer(Framing);
        _buffer = new byte[Messages * (MessageBytes + 1)];
        for (int i = 0; i < Messages; i++)
        {
            var frame = _buffer.AsSpan(i * (MessageBytes + 1), MessageBytes + 1);
            frame.Fill((byte)'x');
            $"s0-{i}".WriteAscii(frame);
            frame[^1] = _framer.TerminatorByte;
        }
    }

    /// <summary>The span form the server uses.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public int Span()
    {
        ReadOnlySpan<byte> buffer = _buffer;
        int total = 0;
        while (_framer.TryReadMessage(buffer, out int length, out int frame))
        {
            total += length;
            buffer = buffer[frame..];
        }

        return total;
    }

    /// <summary>The <see cref="ReadOnlySequence{T}"/> form (Bedrock's IMessageReader shape), one segment.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long Sequence()
    {
        var buffer = new ReadOnlySequence<byte>(_buffer);
        long total = 0;
        while (_framer.TryReadMessage(ref buffer, out var message))
        {
            total += message.Length;
        }

        return total;
    }
}

internal static class SpanText
{
    /// <summary>Writes ASCII <paramref name="text"/> at the start of <paramref name="destination"/>; returns its length.</summary>
    public static int WriteAscii(this string text, Span<byte> destination) =>
        System.Text.Encoding.ASCII.GetBytes(text, destination);
}
