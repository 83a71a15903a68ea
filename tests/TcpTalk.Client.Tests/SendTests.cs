using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client.Tests;

public class SendTests
{
    [Theory]
    [InlineData(FramingMode.Nul, new byte[] { 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x00, 0x00, 0x77, 0xC3, 0xB6, 0x72, 0x6C, 0x64, 0x00, 0x01, 0x0D, 0x0A, 0x00 })]
    [InlineData(FramingMode.Line, new byte[] { 0x68, 0x65, 0x6C, 0x6C, 0x6F, 0x0A, 0x0A, 0x77, 0xC3, 0xB6, 0x72, 0x6C, 0x64, 0x0A, 0x01, 0x0D, 0x00, 0x0A })]
    public async Task MessagesGoOutAsExactFrames(FramingMode framing, byte[] expected)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        byte[]? received = null;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(framing == FramingMode.Nul ? "hi\0" : "hi\n");
            received = await connection.ReadToEndAsync();
        });

        await using (var client = await Connect(listener, new TalkClientOptions { Framing = framing }))
        {
            await client.SendAsync("hello").Bounded();
            await client.SendAsync("").Bounded();
            await client.SendAsync("w\u00f6rld").Bounded();
            byte[] raw = framing == FramingMode.Nul ? [0x01, 0x0D, 0x0A] : [0x01, 0x0D, 0x00];
            await client.SendAsync(raw).Bounded();
            Assert.Equal(4, client.MessagesSent);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task MessagesAreEncodedWithTheConfiguredEncoding()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        byte[]? received = null;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            received = await connection.ReadToEndAsync();
        });

        await using (var client = await Connect(listener, new TalkClientOptions { Encoding = MessageText.GetEncoding("gbk") }))
        {
            await client.SendAsync("\u4f60\u597d").Bounded();
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
        Assert.Equal(new byte[] { 0xC4, 0xE3, 0xBA, 0xC3, 0x00 }, received);
    }

    [Theory]
    [InlineData(FramingMode.Nul, 64, "a\0b", "message contains a NUL byte, which NUL framing cannot carry")]
    [InlineData(FramingMode.Line, 64, "a\nb", "message contains a line feed, which line framing cannot carry")]
    [InlineData(FramingMode.Line, 64, "ab\r", "message ends with a carriage return, which line framing drops")]
    [InlineData(FramingMode.Nul, 4, "12345", "message is 5 bytes, longer than the limit of 4")]
    [InlineData(FramingMode.Nul, 4, "\u00e9\u00e9\u00e9", "message is 6 bytes, longer than the limit of 4")]
    public async Task MessageTheFramingCannotCarryIsRefusedAndNothingIsSent(FramingMode framing, int limit, string message, string reason)
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        byte[]? received = null;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync(framing == FramingMode.Nul ? "hi\0" : "hi\n");
            received = await connection.ReadToEndAsync();
        });

        await using (var client = await Connect(listener, new TalkClientOptions { Framing = framing, MaxMessageBytes = limit }))
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => client.SendAsync(message)).Bounded();
            Assert.Equal("payload", error.ParamName);
            Assert.Equal($"{reason} (Parameter 'payload')", error.Message);
            Assert.Equal(0, client.MessagesSent);
            await client.SendAsync("ok").Bounded();
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
        Assert.Equal(Wire.Bytes(framing == FramingMode.Nul ? "ok\0" : "ok\n"), received);
    }

    [Fact]
    public async Task CompleteHalfClosesAndReturnsOnlyWhenTheServerCloses()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var sawEnd = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var mayClose = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            sawEnd.SetResult(await connection.ReadToEndAsync()); // the client's FIN, while its socket stays open
            await mayClose.Task.Bounded();
        });

        await using (var client = await Connect(listener))
        {
            await client.SendAsync("last").Bounded();
            var complete = client.CompleteAsync();
            Assert.Equal(Wire.Bytes("last\0"), await sawEnd.Task.Bounded());
            await Task.Delay(100);
            Assert.False(complete.IsCompleted, "CompleteAsync returned before the server closed");
            mayClose.SetResult();
            await complete.Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task MessageSentAfterTheServerClosedIsReportedAsNotRead()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        // Like the classic C server: read one message, close.
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("first\0"), await connection.ReadExactlyAsync(6));
        });

        await using var client = await Connect(listener);
        await client.SendAsync("first").Bounded();
        await server.Bounded(); // the server has closed before the second message is sent

        var error = await Record.ExceptionAsync(async () =>
        {
            await client.SendAsync("second").Bounded();
            await client.CompleteAsync().Bounded();
        });

        var closed = Assert.IsType<ServerClosedException>(error);
        Assert.Contains(closed.Message,
            new[]
            {
                "server closed the connection after 1 message(s); message 2 was not sent",
                "server closed the connection before message 2 arrived; messages 2 to 2 were not read",
            });
    }

    [Fact]
    public async Task ServerThatReadsEverythingAndClosesCompletesWithoutError()
    {
        // Regression: the count of sent messages went up only after the send returned, so a reader that saw the
        // server's close first recorded too few and CompleteAsync claimed the last message was never read.
        // Repeated because it is a race; each round takes a few milliseconds.
        for (int round = 0; round < 20; round++)
        {
            using var listener = TestListener.Start(IPAddress.Loopback);
            var server = listener.ServeOneAsync(async connection =>
            {
                await connection.SendAsync("hi\0");
                Assert.Equal(Wire.Bytes("only\0"), await connection.ReadExactlyAsync(5));
            });

            await using var client = await Connect(listener);
            await client.SendAsync("only").Bounded();
            await client.CompleteAsync().Bounded();
            Assert.Equal(1, client.MessagesSent);
            await server.Bounded();
        }
    }

    [Fact]
    public async Task ErrorFrameAfterAMessageIsAServerError()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("too long\0"), await connection.ReadExactlyAsync(9));
            await connection.SendAsync("error: message too long\0");
        });

        await using var client = await Connect(listener);
        await client.SendAsync("too long").Bounded();
        await server.Bounded();

        var error = await Assert.ThrowsAsync<ServerErrorException>(() => client.CompleteAsync()).Bounded();
        Assert.Equal("message too long", error.ServerMessage);
        Assert.Equal("server refused: message too long", error.Message);
    }

    [Fact]
    public async Task SendingAfterAnErrorFrameIsAServerError()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("x\0"), await connection.ReadExactlyAsync(2));
            await connection.SendAsync("error: message too long\0");
        });

        await using var client = await Connect(listener);
        await client.SendAsync("x").Bounded();
        await server.Bounded();
        await client.ServerClosed.Bounded(); // the error frame, then the close, have reached the client

        // SendAsync itself must refuse: a CompleteAsync after it would report the error frame anyway.
        var error = await Assert.ThrowsAsync<ServerErrorException>(() => client.SendAsync("y")).Bounded();
        Assert.Equal("server refused: message too long", error.Message);
        Assert.Equal(1, client.MessagesSent);
    }

    [Fact]
    public async Task ServerThatNeverClosesMakesCompleteTimeOut()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var testDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("m\0"), await connection.ReadToEndAsync());
            await testDone.Task.Bounded();
        });

        try
        {
            await using var client = await Connect(listener, new TalkClientOptions { ResponseTimeout = TimeSpan.FromMilliseconds(300) });
            await client.SendAsync("m").Bounded();
            var error = await Assert.ThrowsAsync<TalkTimeoutException>(() => client.CompleteAsync()).Bounded();
            Assert.Equal("server did not close the connection within 300ms after the last message", error.Message);
        }
        finally
        {
            testDone.SetResult();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task ServerResetIsReportedByCompleteAndDisposeStillSucceeds()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("1\0"), await connection.ReadExactlyAsync(2));
            // Wait until the second message is in our receive queue, then close without reading it: that resets.
            await Poll.UntilAsync(() => connection.Available >= 2, Bounds.Step);
        });

        var client = await Connect(listener);
        await client.SendAsync("1").Bounded();
        await client.SendAsync("2").Bounded();
        await server.Bounded();

        var error = await Assert.ThrowsAsync<ServerClosedException>(() => client.CompleteAsync()).Bounded();
        Assert.Equal("server reset the connection: it closed without reading everything sent (2 message(s) sent)", error.Message);
        await client.DisposeAsync().AsTask().Bounded(); // the failure was reported; disposing must not throw it again
    }

    [Fact]
    public async Task SendingOrCompletingAfterCompleteIsRefused()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            await connection.ReadToEndAsync();
        });

        await using var client = await Connect(listener);
        await client.CompleteAsync().Bounded();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync("late"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.CompleteAsync());
        await server.Bounded();
    }

    private static Task<TalkClient> Connect(TestListener listener, TalkClientOptions? options = null) =>
        TalkClient.ConnectAsync("127.0.0.1", listener.Port, options).Bounded();
}
