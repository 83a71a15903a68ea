using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Protocol;

namespace TcpTalk.Server.Tests;

/// <summary>
/// The one list of options a running server cannot take (<see cref="TalkServerOptions.RestartOnlyProperties"/>): what
/// it names is what <see cref="TalkServer.Reconfigure"/> refuses and what <see cref="TalkServerOptions.CopyRestartOnlyFrom"/> keeps.
/// </summary>
public class RestartOnlyOptionsTests
{
    [Fact]
    public void RestartOnlyPropertiesAreWhatTheListenersWereBoundWithTheFramingTheJournalTheMetersAndTheClock() =>
        Assert.Equal(
            ["Listen", "Port", "UnixSocketMode", "InheritedListeners", "Framing", "ListenBacklog", "Journal", "Acknowledge",
             "KeepAliveTime", "KeepAliveInterval", "KeepAliveCount", "MeterFactory", "TimeProvider"],
            TalkServerOptions.RestartOnlyProperties);

    [Fact]
    public void CopyRestartOnlyFromKeepsEveryRestartOnlyValueInForceAndNothingElse()
    {
        using var inherited = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var meters = new TestMeterFactory();
        var inForce = new TalkServerOptions
        {
            Port = 1,
            UnixSocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            Framing = FramingMode.Line,
            ListenBacklog = 7,
            Journal = new FakeJournal(),
            Acknowledge = true,
            KeepAliveTime = TimeSpan.FromSeconds(3),
            KeepAliveInterval = TimeSpan.FromSeconds(4),
            KeepAliveCount = 2,
            MeterFactory = meters,
            TimeProvider = new FakeTimeProvider(),
        };
        inForce.Listen.Add(new IPEndPoint(IPAddress.Loopback, 1));
        inForce.InheritedListeners.Add(inherited);
        var next = new TalkServerOptions { Greeting = "changed", MaxConnections = 9 };

        // Every option the list names differs before the copy, so the copy is what makes each one agree.
        Assert.Equal(TalkServerOptions.RestartOnlyProperties, RestartOnlyOptions.Differences(inForce, next));
        next.CopyRestartOnlyFrom(inForce);

        Assert.Empty(RestartOnlyOptions.Differences(inForce, next));
        Assert.Equal(inForce.Listen, next.Listen);
        Assert.NotSame(inForce.Listen, next.Listen);
        Assert.Equal(1, next.Port);
        Assert.Equal(inForce.UnixSocketMode, next.UnixSocketMode);
        Assert.Same(inherited, Assert.Single(next.InheritedListeners));
        Assert.Equal(FramingMode.Line, next.Framing);
        Assert.Equal(7, next.ListenBacklog);
        Assert.Same(inForce.Journal, next.Journal);
        Assert.True(next.Acknowledge);
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4), 2), (next.KeepAliveTime, next.KeepAliveInterval, next.KeepAliveCount));
        Assert.Same(meters, next.MeterFactory);
        Assert.Same(inForce.TimeProvider, next.TimeProvider);
        Assert.Equal(("changed", 9), (next.Greeting, next.MaxConnections));
    }

    [Fact]
    public void CopyRestartOnlyFromItselfKeepsTheLists()
    {
        var options = new TalkServerOptions();
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 1));
        options.CopyRestartOnlyFrom(options);
        Assert.Single(options.Listen);
    }
}
