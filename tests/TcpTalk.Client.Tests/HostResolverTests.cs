using System.Net;

namespace TcpTalk.Client.Tests;

public class HostResolverTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("192.0.2.7")]
    [InlineData("2001:db8::7")]
    public async Task SystemResolverReturnsAnIPLiteralWithoutALookup(string literal)
    {
        // An already-cancelled token: any real lookup would throw, so a result proves none happened.
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var addresses = await SystemHostResolver.Instance.ResolveAsync(literal, cancelled.Token).Bounded();
        Assert.Equal([IPAddress.Parse(literal)], addresses);
    }

    [Fact]
    public async Task SystemResolverRefusesNull()
    {
        await Assert.ThrowsAsync<ArgumentNullException>("host", () => SystemHostResolver.Instance.ResolveAsync(null!, default));
    }

    [Fact]
    public async Task HostNotFoundFromTheResolverReachesTheCallerUnchanged()
    {
        var notFound = new HostNotFoundException("nowhere.test");
        var options = new TalkClientOptions { Resolver = new ThrowingResolver(notFound) };

        var error = await Assert.ThrowsAsync<HostNotFoundException>(() => TalkClient.ConnectAsync("nowhere.test", 9, options)).Bounded();

        Assert.Same(notFound, error);
        Assert.Equal("host 'nowhere.test' not found", error.Message);
        Assert.Equal("nowhere.test", error.Host);
        Assert.IsAssignableFrom<TalkClientException>(error);
    }

    [Fact]
    public async Task ConnectingToAnIPLiteralWithTheDefaultResolverNeedsNoLookup()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("Welcome 127.0.0.1!\0");
            await connection.ReadToEndAsync();
        });

        await using (var client = await TalkClient.ConnectAsync("127.0.0.1", listener.Port).Bounded())
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            Assert.Equal(IPAddress.Loopback, ((IPEndPoint)client.LocalEndPoint).Address);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    private sealed class ThrowingResolver(Exception error) : IHostResolver
    {
        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Task.FromException<IPAddress[]>(error);
    }
}
