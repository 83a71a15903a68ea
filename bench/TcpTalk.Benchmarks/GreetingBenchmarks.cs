using System.Net;
using BenchmarkDotNet.Attributes;
using TcpTalk.Protocol;

namespace TcpTalk.Benchmarks;

/// <summary><see cref="GreetingTemplate.Format(IPAddress, int, Span{byte})"/>: once per accepted connection.</summary>
[MemoryDiagnoser]
public class GreetingBenchmarks
{
    private readonly byte[] _destination = new byte[GreetingTemplate.Default.MaxFormattedBytes];
    private readonly GreetingTemplate _withPort = GreetingTemplate.Parse("Hello {address} port {port}, welcome!", MessageText.Utf8);
    private IPAddress _address = IPAddress.Loopback;

    [Params("127.0.0.1", "::ffff:127.0.0.1", "2001:db8::1234:5678")]
    public string Address { get; set; } = "127.0.0.1";

    [GlobalSetup]
    public void Setup() => _address = IPAddress.Parse(Address);

    [Benchmark(Baseline = true)]
    public int Default() => GreetingTemplate.Default.Format(_address, 54321, _destination);

    [Benchmark]
    public int WithPort()
    {
        Span<byte> destination = stackalloc byte[_withPort.MaxFormattedBytes];
        return _withPort.Format(_address, 54321, destination);
    }
}
