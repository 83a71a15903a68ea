using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using TcpTalk.Protocol;

namespace TcpTalk.Benchmarks;

/// <summary>
/// <see cref="MessageText.WriteEscapedUtf8"/> on one 32-byte message: plain ASCII (the fast path), non-ASCII UTF-8
/// passed through, input that needs escapes (controls, backslash, an invalid byte, a bidi override), and ASCII in
/// a legacy encoding (GBK: decoded to UTF-16 first).
/// </summary>
[MemoryDiagnoser]
public class MessageTextBenchmarks
{
    private static readonly Dictionary<string, (byte[] Bytes, Encoding Encoding)> Inputs = new()
    {
        ["ascii"] = ("s0-1234 hello world xxxxxxxxxxxx"u8.ToArray(), MessageText.Utf8),
        ["non-ascii"] = ("Grüße, 世界! ça va? ок ✓ 12"u8.ToArray(), MessageText.Utf8),
        ["escaped"] = ("tab\there\r\nbs\\ \x01\x1b[31m \u202E x\xff"u8.ToArray(), MessageText.Utf8),
        ["ascii-gbk"] = ("s0-1234 hello world xxxxxxxxxxxx"u8.ToArray(), MessageText.GetEncoding("gbk")),
    };

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private byte[] _bytes = [];
    private Encoding _encoding = MessageText.Utf8;

    [Params("ascii", "non-ascii", "escaped", "ascii-gbk")]
    public string Input { get; set; } = "ascii";

    [GlobalSetup]
    public void Setup() => (_bytes, _encoding) = Inputs[Input];

    [Benchmark]
    public int WriteEscapedUtf8()
    {
        _output.ResetWrittenCount();
        MessageText.WriteEscapedUtf8(_bytes, _encoding, _output);
        return _output.WrittenCount;
    }
}
