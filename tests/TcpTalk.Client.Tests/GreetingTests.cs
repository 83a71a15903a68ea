using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client.Tests;

public class GreetingTests
{
    [Theory]
    [InlineData(FramingMode.Nul, new byte[] { 0x57, 0x65, 0x6C, 0x63, 0x6F, 0x6D, 0x65, 0x21, 0x00 }, new byte[] { 0x57, 0x65, 0x6C, 0x63, 0x6F, 0x6D, 0x65, 0x21 }, "Welcome!")]
    [InlineData(FramingMode.Line, new byte[] { 0x57, 0x65, 0x6C, 0x63, 0x6F, 0x6D, 0x65, 0x21, 0x0D, 0x0A }, new byte[] { 0x57, 0x65, 0x6C, 0x63, 0x6F, 0x6D, 0x65, 0x21 }, "Welcome!")]
    [InlineData(FramingMode.Nul, new byte[] { 0x00 }, new byte[0], "")]
    [InlineData(FramingMode.Nul, new byte[] { 0x1B, 0x5B, 0x32, 0x4A, 0x20, 0x77, 0xC3, 0xB6, 0x20, 0xFF, 0x0A, 0x00 }, new byte[] { 0x1B, 0x5B, 0x32, 0x4A, 0x20, 0x77, 0xC3, 0xB6, 0x20, 0xFF, 0x0A }, "\\x1b[2J w\u00f6 \\xff\\n")]
    public async Task GreetingIsReadAsSentAndShownEscaped(FramingMode framing, byte[] sent, byte[] bytes, string text)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(sent);
            await connection.ReadToEndAsync();
        });

        await using (var client = await TalkClient.ConnectAsync("127.0.0.1", listener.Port, new TalkClientOptions { Framing = framing }).Bounded())
        {
            Assert.Equal(bytes, client.GreetingBytes.ToArray());
            Assert.Equal(text, client.Greeting);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task GreetingIsDecodedWithTheConfiguredEncoding()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(new byte[] { 0xC4, 0xE3, 0xBA, 0xC3, 0x00 });
            await connection.ReadToEndAsync();
        });
        var options = new TalkClientOptions { Encoding = MessageText.GetEncoding("gbk") };

        await using (var client = await TalkClient.ConnectAsync("127.0.0.1", listener.Port, options).Bounded())
        {
            Assert.Equal("\u4f60\u597d", client.Greeting);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task GreetingOfExactlyMaxMessageBytesIsAccepted()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("0123456789abcdef\0");
            await connection.ReadToEndAsync();
        });

        await using (var client = await TalkClient.ConnectAsync("127.0.0.1", listener.Port, new TalkClientOptions { MaxMessageBytes = 16 }).Bounded())
        {
            Assert.Equal("0123456789abcdef", client.Greeting);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Theory]
    [InlineData("0123456789abcdefX\0")]
    [InlineData("0123456789abcdefXYZ")]
    public async Task GreetingLongerThanMaxMessageBytesIsAProtocolError(string greeting)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(greeting);
            await connection.DrainAsync();
        });

        var error = await Assert.ThrowsAsync<ProtocolException>(
            () => TalkClient.ConnectAsync("127.0.0.1", listener.Port, new TalkClientOptions { MaxMessageBytes = 16 })).Bounded();

        Assert.Equal($"greeting from 127.0.0.1:{listener.Port} is longer than 16 bytes (the limit); is this a TcpTalk server with nul framing?", error.Message);
        Assert.IsType<MessageTooLongException>(error.InnerException);
        await server.Bounded();
    }

    [Fact]
    public async Task ServerClosingWithoutAGreetingIsAProtocolError()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(_ => Task.CompletedTask);

        // A ProtocolException (exit 6), of the kind a reconnecting sender retries: a server killed before its greeting.
        var error = await Assert.ThrowsAnyAsync<ProtocolException>(() => TalkClient.ConnectAsync("127.0.0.1", listener.Port)).Bounded();

        Assert.Equal($"127.0.0.1:{listener.Port} closed the connection without sending a greeting", error.Message);
        Assert.True(SendFailures.IsRetryable(error));
        await server.Bounded();
    }

    [Fact]
    public async Task UnterminatedGreetingBeforeACleanCloseIsTheGreeting()
    {
        // The classic C server sends strlen + 1 bytes; a server that forgets the NUL and closes still greets.
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(connection => connection.SendAsync("Welcome!"));

        await using var client = await TalkClient.ConnectAsync("127.0.0.1", listener.Port).Bounded();

        Assert.Equal("Welcome!", client.Greeting);
        await server.Bounded();
    }

    [Fact]
    public async Task ServerResettingBeforeTheGreetingIsReportedAsClosed()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connected.Task.Bounded(); // reset only once the client's connect has completed
            connection.LingerState = new LingerOption(true, 0); // close sends RST
        });
        var options = new TalkClientOptions
        {
            OnAttempt = attempt =>
            {
                if (attempt.Outcome == "connected")
                {
                    connected.SetResult();
                }
            },
        };

        var error = await Assert.ThrowsAsync<ServerClosedException>(() => TalkClient.ConnectAsync("127.0.0.1", listener.Port, options)).Bounded();

        Assert.Equal($"127.0.0.1:{listener.Port} reset the connection before sending a greeting", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task NoGreetingWithinResponseTimeoutIsATimeout()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(connection => connection.DrainAsync());
        var options = new TalkClientOptions { ResponseTimeout = TimeSpan.FromMilliseconds(300) };

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TalkTimeoutException>(() => TalkClient.ConnectAsync("127.0.0.1", listener.Port, options)).Bounded();

        Assert.Equal($"connected to 127.0.0.1:{listener.Port} but no greeting arrived within 300ms", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(280), TimeSpan.FromSeconds(5));
        await server.Bounded(); // the client closed its socket: the server saw the end of the stream
    }

    [Theory]
    [InlineData(FramingMode.Nul, "error: too many connections\0", "too many connections")]
    [InlineData(FramingMode.Line, "error: too many connections\r\n", "too many connections")]
    [InlineData(FramingMode.Nul, "error: \u001b[31mred\0", "\\x1b[31mred")]
    public async Task ErrorFrameInsteadOfAGreetingIsAServerError(FramingMode framing, string frame, string sentence)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(connection => connection.SendAsync(frame));

        var error = await Assert.ThrowsAsync<ServerErrorException>(
            () => TalkClient.ConnectAsync("127.0.0.1", listener.Port, new TalkClientOptions { Framing = framing })).Bounded();

        Assert.Equal(sentence, error.ServerMessage);
        Assert.Equal($"server refused: {sentence}", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task GreetingTimeoutUsesTheHostAsTheUserTypedIt()
    {
        using var listener = TestListener.Start(IPAddress.IPv6Loopback);
        var server = listener.ServeOneAsync(connection => connection.DrainAsync());
        var options = new TalkClientOptions { ResponseTimeout = TimeSpan.FromMilliseconds(100), Resolver = new FakeResolver(IPAddress.IPv6Loopback) };

        var error = await Assert.ThrowsAsync<TalkTimeoutException>(() => TalkClient.ConnectAsync("talk.test", listener.Port, options)).Bounded();

        Assert.Equal($"connected to talk.test:{listener.Port} but no greeting arrived within 100ms", error.Message);
        await server.Bounded();
    }

    [Theory]
    [InlineData(FramingMode.Nul, new byte[] { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 }, "a TLS alert")]
    [InlineData(FramingMode.Line, new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC }, "a TLS handshake record")]
    public async Task ATlsRecordWhereTheGreetingShouldBeFailsAtOnceOverPlainTcp(FramingMode framing, byte[] record, string what)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var testDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(record); // and stays open: no terminator, no close
            await testDone.Task.Bounded();
        });

        var took = Stopwatch.StartNew();
        var options = new TalkClientOptions { Framing = framing, ResponseTimeout = TimeSpan.FromSeconds(30) };
        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => TalkClient.ConnectAsync("127.0.0.1", listener.Port, options)).Bounded();
        testDone.SetResult();

        Assert.True(took.Elapsed < TimeSpan.FromSeconds(5), $"took {took.Elapsed}");
        Assert.Equal($"127.0.0.1:{listener.Port} is a TLS server: it answered with {what} where the greeting should be; connect with TLS (TalkClientOptions.Tls)", error.Message);
        await server.Bounded();
    }
}
