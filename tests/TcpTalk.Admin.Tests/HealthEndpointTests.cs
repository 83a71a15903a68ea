using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.Messages;

namespace TcpTalk.Admin.Tests;

/// <summary>GET /healthz and /readyz, and what the endpoint answers to anything else.</summary>
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task HealthzIsOkWhileServing()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var response = await Scrape.Http.GetAsync(fixture.Url("/healthz"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ReadyzFollowsListeningJournalAndDraining()
    {
        bool listening = false, draining = false;
        var journal = new SwitchableJournal();
        await using var fixture = await AdminFixture.StartAsync(new ServerReadiness(() => listening, journal, () => draining));

        await AssertReadyz(fixture, HttpStatusCode.ServiceUnavailable, "server is not listening\n");
        listening = true;
        await AssertReadyz(fixture, HttpStatusCode.OK, "ready\n");
        journal.Healthy = false;
        await AssertReadyz(fixture, HttpStatusCode.ServiceUnavailable, "journal is not writable\n");
        journal.Healthy = true;
        draining = true;
        await AssertReadyz(fixture, HttpStatusCode.ServiceUnavailable, "server is draining\n");
    }

    [Fact]
    public async Task ReadyzWithoutASourceIsReadyAndAFailingSourceIsNot()
    {
        await using (var fixture = await AdminFixture.StartAsync())
        {
            await AssertReadyz(fixture, HttpStatusCode.OK, "ready\n");
        }

        await using (var fixture = await AdminFixture.StartAsync(new ThrowingReadiness()))
        {
            await AssertReadyz(fixture, HttpStatusCode.ServiceUnavailable, "readiness check failed: boom one line\n");
        }
    }

    [Theory]
    [InlineData("GET /nope HTTP/1.1", "HTTP/1.1 404 Not Found")]
    [InlineData("POST /metrics HTTP/1.1", "HTTP/1.1 405 Method Not Allowed")]
    [InlineData("garbage", "HTTP/1.1 400 Bad Request")]
    [InlineData("HEAD /healthz HTTP/1.0", "HTTP/1.1 200 OK")]
    public async Task AnswersOtherRequestsWithTheRightStatus(string requestLine, string statusLine)
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(fixture.Admin.BoundEndpoint!);
        await socket.SendAsync(Encoding.ASCII.GetBytes(requestLine + "\r\nHost: x\r\n\r\n"), SocketFlags.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var all = new List<byte>();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, n));
        }

        string response = Encoding.ASCII.GetString([.. all]);
        Assert.StartsWith(statusLine + "\r\n", response, StringComparison.Ordinal);
        if (requestLine.StartsWith("HEAD", StringComparison.Ordinal))
        {
            Assert.EndsWith("\r\n\r\n", response, StringComparison.Ordinal); // headers only
        }
    }

    private static async Task AssertReadyz(AdminFixture fixture, HttpStatusCode status, string body)
    {
        using var response = await Scrape.Http.GetAsync(fixture.Url("/readyz"));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsStringAsync());
    }

    private sealed class SwitchableJournal : IMessageJournal
    {
        public volatile bool Healthy = true;

        public bool IsHealthy => Healthy;

        public ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken) => ValueTask.FromResult(1L);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ThrowingReadiness : IReadinessSource
    {
        public string? NotReadyReason() => throw new InvalidOperationException("boom\none line");
    }
}
