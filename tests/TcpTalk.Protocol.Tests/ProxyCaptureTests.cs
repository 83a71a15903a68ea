using System.Globalization;
using System.Net;
using TcpTalk.Fuzz;

namespace TcpTalk.Protocol.Tests;

/// <summary>
/// The headers real haproxy 2.6 and nginx 1.22 sent, captured byte for byte by fuzz/capture-proxy-seeds.sh (a client
/// bound to 127.0.0.5 or ::1 connected through each to a capture listener). Each file's name says what it must
/// contain: <c>...-from-127.0.0.5-PORT</c> is that client, <c>...-health-check</c> haproxy's own check connection.
/// The same files are the 'proxy' fuzz target's seeds.
/// </summary>
public class ProxyCaptureTests
{
    public static TheoryData<string> Captures => [.. CaptureFiles().Select(f => Path.GetFileName(f))];

    [Fact]
    public void CapturesFromEverySenderArePresent()
    {
        var names = CaptureFiles().Select(Path.GetFileName).ToList();
        foreach (string expected in new[] { "haproxy-send-proxy-v2-from-", "haproxy-send-proxy-v2-unique-id-from-",
                     "haproxy-send-proxy-v2-crc32c-unique-id-from-", "haproxy-send-proxy-from-", "nginx-proxy-protocol-from-",
                     "haproxy-send-proxy-v2-health-check", "haproxy-send-proxy-health-check" })
        {
            Assert.Contains(names, name => name!.StartsWith(expected, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Captures))]
    public void CaptureParsesToTheClientThatConnected(string name)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(CorpusFolder(), name));
        var outcome = ProxyTarget.CheckEveryCut(bytes);
        Assert.True(outcome.Header is not null, $"{name}: {outcome}");
        Assert.True(ProxyHeaderParser.Default.TryParse(bytes, out var header));
        Assert.Equal(bytes.Length, header.Length);
        Assert.Equal(name.Contains("send-proxy-v2", StringComparison.Ordinal) ? 2 : 1, header.Version);

        int from = name.IndexOf("-from-", StringComparison.Ordinal);
        if (from >= 0)
        {
            string[] client = name[(from + 6)..].Split('-');
            var address = client[0] == "ipv6" ? IPAddress.IPv6Loopback : IPAddress.Parse(client[0]);
            int port = int.Parse(client[^1], CultureInfo.InvariantCulture);
            Assert.Equal(new IPEndPoint(address, port), header.Source);
            Assert.Equal(ProxyCommand.Proxy, header.Command);
            Assert.Equal(name.Contains("unique-id", StringComparison.Ordinal), header.UniqueId is not null);
        }
        else
        {
            Assert.EndsWith("-health-check", name, StringComparison.Ordinal);
            // haproxy's v2 checks are LOCAL; its v1 checks name its own connection, 127.0.0.1 to 127.0.0.1.
            if (header.Version == 2)
            {
                Assert.Equal(ProxyCommand.Local, header.Command);
                Assert.True(header.UsesRealEndpoints);
            }
            else
            {
                Assert.Equal(IPAddress.Loopback, header.Source?.Address);
            }
        }
    }

    [Fact]
    public void HaproxyUniqueIdIsItsUniqueIdFormat()
    {
        // unique-id-format %{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid, the client part in hex: 7F000005 is 127.0.0.5.
        var header = Parse("haproxy-send-proxy-v2-unique-id-from-");
        string id = System.Text.Encoding.ASCII.GetString(header.UniqueId!);
        Assert.StartsWith($"7F000005:{header.Source!.Port:X4}_7F000001:{header.Destination!.Port:X4}_", id, StringComparison.Ordinal);
    }

    [Fact]
    public void HaproxyCrc32CIsVerified()
    {
        string name = CaptureFiles().Select(Path.GetFileName).First(n => n!.StartsWith("haproxy-send-proxy-v2-crc32c-unique-id-from-", StringComparison.Ordinal))!;
        byte[] bytes = File.ReadAllBytes(Path.Combine(CorpusFolder(), name));
        Assert.True(ProxyHeaderParser.Default.TryParse(bytes, out _));
        bytes[^1] ^= 0x01; // the last byte of the unique id
        Assert.Equal(ProxyHeaderError.V2ChecksumMismatch,
            Assert.Throws<ProxyHeaderException>(() => ProxyHeaderParser.Default.TryParse(bytes, out _)).Reason);
    }

    private static ProxyHeader Parse(string prefix)
    {
        string file = CaptureFiles().First(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(ProxyHeaderParser.Default.TryParse(File.ReadAllBytes(file), out var header));
        return header;
    }

    private static IEnumerable<string> CaptureFiles() =>
        Directory.GetFiles(CorpusFolder()).Where(f => Path.GetFileName(f) is { } n && (n.StartsWith("haproxy-", StringComparison.Ordinal) || n.StartsWith("nginx-", StringComparison.Ordinal))).Order(StringComparer.Ordinal);

    /// <summary>fuzz/corpus/proxy in the checkout the tests were built from (found above the test binaries).</summary>
    private static string CorpusFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string folder = Path.Combine(dir.FullName, "fuzz", "corpus", "proxy");
            if (File.Exists(Path.Combine(dir.FullName, "TcpTalk.slnx")) && Directory.Exists(folder))
            {
                return folder;
            }
        }

        throw new DirectoryNotFoundException($"no fuzz/corpus/proxy above {AppContext.BaseDirectory}");
    }
}
