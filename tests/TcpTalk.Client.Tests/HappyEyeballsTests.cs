using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Client.Tests;

// Attempt order and delays are asserted: run alone, not beside other classes competing for the two cores.
[Collection(nameof(SerialTimingCollection))]
public class HappyEyeballsTests
{
    private static readonly IPAddress s_v4a = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress s_v4b = IPAddress.Parse("192.0.2.2");
    private static readonly IPAddress s_v6a = IPAddress.Parse("2001:db8::1");
    private static readonly IPAddress s_v6b = IPAddress.Parse("2001:db8::2");
    private static readonly IPAddress s_v6c = IPAddress.Parse("2001:db8::3");

    public static TheoryData<IPAddress[], IPAddress[]> InterleaveCases => new()
    {
        { [s_v4a, s_v4b, s_v6a, s_v6b, s_v6c], [s_v6a, s_v4a, s_v6b, s_v4b, s_v6c] },
        { [s_v6a, s_v4a], [s_v6a, s_v4a] },
        { [s_v4a, s_v6a], [s_v6a, s_v4a] },
        { [s_v4a, s_v4b], [s_v4a, s_v4b] },
        { [s_v6b, s_v6a], [s_v6b, s_v6a] },
        { [s_v4a, s_v4b, s_v6a], [s_v6a, s_v4a, s_v4b] },
        { [], [] },
    };

    [Theory]
    [MemberData(nameof(InterleaveCases))]
    public void InterleaveAlternatesFamiliesIPv6FirstKeepingOrderWithinAFamily(IPAddress[] addresses, IPAddress[] expected)
    {
        Assert.Equal(expected, HappyEyeballs.Interleave(addresses));
    }

    [Fact]
    public async Task RefusedIPv6AddressFallsBackToIPv4AndReportsBothAttempts()
    {
        using var listener = ListenOnIPv4WhereIPv6IsClosed();
        int port = listener.Port;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("Welcome 127.0.0.1!\0");
            Assert.Empty(await connection.ReadToEndAsync());
        });
        var log = new AttemptLog();
        var resolver = new FakeResolver(IPAddress.IPv6Loopback, IPAddress.Loopback);
        var options = new TalkClientOptions { Resolver = resolver, OnAttempt = log.Add, AttemptDelay = TimeSpan.FromSeconds(2) };

        await using (var client = await TalkClient.ConnectAsync("talk.test", port, options).Bounded())
        {
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), client.RemoteEndPoint);
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            Assert.Equal(["talk.test"], resolver.Asked);
            Assert.Equal([$"[::1]:{port} start", $"[::1]:{port} refused", $"127.0.0.1:{port} start", $"127.0.0.1:{port} connected"], log.Lines);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task EveryAddressRefusingIsOneErrorListingEachAttempt()
    {
        int port = ClosedPortOnBothLoopbacks();
        var log = new AttemptLog();
        var options = new TalkClientOptions
        {
            Resolver = new FakeResolver(IPAddress.Loopback, IPAddress.IPv6Loopback),
            OnAttempt = log.Add,
            AttemptDelay = TimeSpan.FromSeconds(2), // the second attempt starts only because the first was refused
        };

        var error = await Assert.ThrowsAsync<ConnectFailedException>(() => TalkClient.ConnectAsync("talk.test", port, options)).Bounded();

        Assert.Equal($"connection refused by [::1]:{port} and 127.0.0.1:{port} (nothing listening on that port?)", error.Message);
        Assert.Equal(SocketError.ConnectionRefused, error.Error);
        Assert.IsType<SocketException>(error.InnerException);
        Assert.Equal([$"[::1]:{port} start", $"[::1]:{port} refused", $"127.0.0.1:{port} start", $"127.0.0.1:{port} refused"], log.Lines);
    }

    [Fact]
    public async Task ResolverWithoutAddressesMeansHostNotFound()
    {
        // A resolver that breaks its contract (no addresses, no exception) must not surface as IndexOutOfRangeException.
        var options = new TalkClientOptions { Resolver = new FakeResolver() };
        var error = await Assert.ThrowsAsync<HostNotFoundException>(() => TalkClient.ConnectAsync("empty.test", 1, options)).Bounded();
        Assert.Equal("host 'empty.test' not found", error.Message);
    }

    [LinuxFact]
    public async Task SilentAddressIsOvertakenByTheNextOneAfterTheAttemptDelay()
    {
        var (hole, listener) = await BlackHoleBesideAListenerAsync();
        using var _ = hole;
        using var __ = listener;
        int port = listener.Port;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            await connection.ReadToEndAsync();
        });
        var log = new AttemptLog();
        var options = new TalkClientOptions
        {
            Resolver = new FakeResolver(IPAddress.IPv6Loopback, IPAddress.Loopback),
            AttemptDelay = TimeSpan.FromMilliseconds(150),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            OnAttempt = log.Add,
        };

        var clock = Stopwatch.StartNew();
        await using (var client = await TalkClient.ConnectAsync("talk.test", port, options).Bounded())
        {
            var elapsed = clock.Elapsed;
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), client.RemoteEndPoint);
            Assert.Equal([$"[::1]:{port} start", $"127.0.0.1:{port} start", $"127.0.0.1:{port} connected", $"[::1]:{port} cancelled"], log.Lines);
            var entries = log.Entries;
            Assert.InRange(entries[1].At - entries[0].At, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(2));
            Assert.InRange(elapsed, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(3));
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [LinuxFact]
    public async Task FailedAttemptStartsTheNextAtOnceWhileASilentOneIsStillTrying()
    {
        // RFC 8305 and HappyEyeballs' own contract: a new attempt starts when the previous one fails or after the
        // delay, whichever is sooner. Order: [::1] silent, 127.0.0.2 refused after the delay, 127.0.0.1 must start
        // right then, not when the silent attempt gives up at ConnectTimeout.
        var (hole, listener) = await BlackHoleBesideAListenerAsync();
        using var _ = hole;
        using var __ = listener;
        int port = listener.Port;
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            await connection.ReadToEndAsync();
        });
        var log = new AttemptLog();
        var options = new TalkClientOptions
        {
            Resolver = new FakeResolver(IPAddress.IPv6Loopback, IPAddress.Parse("127.0.0.2"), IPAddress.Loopback),
            AttemptDelay = TimeSpan.FromMilliseconds(150),
            ConnectTimeout = TimeSpan.FromSeconds(4),
            OnAttempt = log.Add,
        };

        var clock = Stopwatch.StartNew();
        await using (var client = await TalkClient.ConnectAsync("talk.test", port, options).Bounded())
        {
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(2));
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), client.RemoteEndPoint);
            Assert.Equal(
                [$"[::1]:{port} start", $"127.0.0.2:{port} start", $"127.0.0.2:{port} refused", $"127.0.0.1:{port} start", $"127.0.0.1:{port} connected", $"[::1]:{port} cancelled"],
                log.Lines);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [LinuxFact]
    public async Task SilentAddressAloneEndsInTalkTimeoutAfterConnectTimeout()
    {
        using var hole = await BlackHole.TryCreateAsync(IPAddress.IPv6Loopback) ?? throw NoBlackHole();
        int port = hole.EndPoint.Port;
        var log = new AttemptLog();
        var options = new TalkClientOptions
        {
            Resolver = new FakeResolver(IPAddress.IPv6Loopback),
            ConnectTimeout = TimeSpan.FromMilliseconds(300),
            OnAttempt = log.Add,
        };

        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<TalkTimeoutException>(() => TalkClient.ConnectAsync("talk.test", port, options)).Bounded();

        Assert.Equal($"no answer from talk.test:{port} within 300ms", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(280), TimeSpan.FromSeconds(3));
        Assert.Equal([$"[::1]:{port} start", $"[::1]:{port} cancelled"], log.Lines);
    }

    [LinuxFact]
    public async Task CallerCancellationIsNotReportedAsATimeout()
    {
        using var hole = await BlackHole.TryCreateAsync(IPAddress.IPv6Loopback) ?? throw NoBlackHole();
        var options = new TalkClientOptions { Resolver = new FakeResolver(IPAddress.IPv6Loopback), ConnectTimeout = TimeSpan.FromSeconds(5) };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TalkClient.ConnectAsync("talk.test", hole.EndPoint.Port, options, cancel.Token)).Bounded();
    }

    internal static Exception NoBlackHole() => new InvalidOperationException(
        "could not build a loopback black hole: a connect to a listener with a full backlog was answered; this test needs SYNs to a full accept queue to be dropped (Linux)");

    /// <summary>A black hole on [::1]:P and a listener on 127.0.0.1:P, the same port, since the client uses one port for all addresses.</summary>
    private static async Task<(BlackHole Hole, TestListener Listener)> BlackHoleBesideAListenerAsync()
    {
        for (int tries = 0; tries < 5; tries++)
        {
            var hole = await BlackHole.TryCreateAsync(IPAddress.IPv6Loopback) ?? throw NoBlackHole();
            try
            {
                return (hole, TestListener.Start(IPAddress.Loopback, hole.EndPoint.Port));
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                hole.Dispose();
            }
        }

        throw new InvalidOperationException("no port was free on both 127.0.0.1 and ::1 in 5 tries");
    }

    private static TestListener ListenOnIPv4WhereIPv6IsClosed()
    {
        for (int tries = 0; tries < 5; tries++)
        {
            var listener = TestListener.Start(IPAddress.Loopback);
            if (IsFree(IPAddress.IPv6Loopback, listener.Port))
            {
                return listener;
            }

            listener.Dispose();
        }

        throw new InvalidOperationException("no port was free on both 127.0.0.1 and ::1 in 5 tries");
    }

    private static int ClosedPortOnBothLoopbacks()
    {
        for (int tries = 0; tries < 5; tries++)
        {
            int port;
            using (var probe = TestListener.Start(IPAddress.Loopback))
            {
                port = probe.Port;
            }

            if (IsFree(IPAddress.Loopback, port) && IsFree(IPAddress.IPv6Loopback, port))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no port was free on both 127.0.0.1 and ::1 in 5 tries");
    }

    private static bool IsFree(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(address, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

[CollectionDefinition(nameof(SerialTimingCollection), DisableParallelization = true)]
public sealed class SerialTimingCollection;

/// <summary>A fact that needs Linux's loopback behaviour (a full accept queue drops SYNs); skipped elsewhere.</summary>
public sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "needs a loopback black hole: only Linux drops SYNs to a full accept queue (Windows refuses them)";
        }
    }
}
