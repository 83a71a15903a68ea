using System.Globalization;
using System.Net.Sockets;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>serve --framing u16be</c> and <c>u32be</c> against a C peer that frames the way device and game clients do
/// (tests/TcpTalk.FunctionalTests/CPrograms/prefixed_peer.c): it must read the framed greeting, and every message it
/// sends must arrive whole, an empty one included; a length over the limit gets the framed error line.
/// </summary>
[Collection(PrefixedPeerCollection.Name)]
public class PrefixedPeerTests(PrefixedPeer peer)
{
    [Theory]
    [InlineData("u16be", "2")]
    [InlineData("u32be", "4")]
    public async Task CPeerIsGreetedAndEveryFrameArrivesWhole(string framing, string width)
    {
        await using var server = await Tcptalk.ServeAsync("--framing", framing);
        await using var client = RunningProcess.Start(peer.Program,
            ["127.0.0.1", Port(server), width, "first message", "", "second with  spaces", "@3000"]);

        Assert.Equal(0, await client.WaitForExitAsync());
        Assert.Equal(["Welcome 127.0.0.1!"], client.Stdout);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" " + new string('x', 3000), StringComparison.Ordinal));
        var texts = server.Process.Stdout.Select(Text).ToList();
        Assert.Equal(["first message", "", "second with  spaces", new string('x', 3000)], texts);
    }

    [Theory]
    [InlineData("u16be", "2")]
    [InlineData("u32be", "4")]
    public async Task LengthOverTheLimitGetsTheFramedErrorLineAndTheClose(string framing, string width)
    {
        await using var server = await Tcptalk.ServeAsync("--framing", framing, "--max-message-bytes", "10");
        await using var client = RunningProcess.Start(peer.Program, ["127.0.0.1", Port(server), width, "fits", "@11"]);

        Assert.Equal(0, await client.WaitForExitAsync());
        Assert.Equal("Welcome 127.0.0.1!", client.Stdout[0]);
        string error = Assert.Single(client.Stdout.Skip(1));
        Assert.StartsWith("error: message of 11 bytes announced, longer than 10 bytes (the limit); it starts \"", error, StringComparison.Ordinal);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" fits", StringComparison.Ordinal));
        Assert.Single(server.Process.Stdout);
    }

    [Fact]
    public async Task OctetHeaderWithALeadingZeroIsAProtocolErrorInOctetFraming()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "octet");
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.SendAsync("2 ok05 hello"u8.ToArray());
        client.HalfClose();

        string received = System.Text.Encoding.ASCII.GetString(await client.ReadToEndAsync());
        const string error = "error: octet-counted length starts with 0 (RFC 6587 lengths start with 1 to 9); it starts \"0\"";
        Assert.Equal($"18 Welcome 127.0.0.1!{error.Length} {error}", received);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" ok", StringComparison.Ordinal));
        Assert.Single(server.Process.Stdout);
    }

    [Fact]
    public async Task OctetFrameCutShortByTheClientsCloseIsNotDelivered()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "octet");
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.SendAsync("2 ok9 cut"u8.ToArray());
        client.HalfClose();

        string received = System.Text.Encoding.ASCII.GetString(await client.ReadToEndAsync());
        Assert.Contains("error: connection closed inside a frame (octet framing); it starts \"9 cut\"", received, StringComparison.Ordinal);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" ok", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Process.Stdout, l => l.EndsWith("cut", StringComparison.Ordinal));
    }

    private static string Port(ServeProcess server) => server.Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The message text of a serve output line: after <c>&lt;time&gt; &lt;ip&gt;:&lt;port&gt; </c>.</summary>
    internal static string Text(string line) => line.Split(' ', 3) is [_, _, var text] ? text : line[(line.LastIndexOf(' ') + 1)..];
}
