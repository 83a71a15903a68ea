namespace TcpTalk.Server;

/// <summary>
/// The options a running <see cref="TalkServer"/> cannot take from <see cref="TalkServer.Reconfigure"/>: what its
/// listeners were bound with (listen addresses, backlog, the keepalive set on the listening sockets), the framing,
/// the journal and acknowledgements, the meter factory and the clock.
/// </summary>
internal static class RestartOnlyOptions
{
    /// <summary>The properties of <paramref name="next"/> that differ from <paramref name="current"/> and cannot change while serving, in declaration order.</summary>
    public static IReadOnlyList<string> Differences(TalkServerOptions current, TalkServerOptions next)
    {
        var changed = new List<string>();
        void Check(string property, bool same)
        {
            if (!same)
            {
                changed.Add(property);
            }
        }

        Check(nameof(TalkServerOptions.Listen), current.Listen.SequenceEqual(next.Listen));
        Check(nameof(TalkServerOptions.Port), current.Port == next.Port);
        Check(nameof(TalkServerOptions.UnixSocketMode), current.UnixSocketMode == next.UnixSocketMode);
        Check(nameof(TalkServerOptions.InheritedListeners), current.InheritedListeners.SequenceEqual(next.InheritedListeners));
        Check(nameof(TalkServerOptions.Framing), current.Framing == next.Framing);
        Check(nameof(TalkServerOptions.ListenBacklog), current.ListenBacklog == next.ListenBacklog);
        Check(nameof(TalkServerOptions.Journal), ReferenceEquals(current.Journal, next.Journal));
        Check(nameof(TalkServerOptions.Acknowledge), current.Acknowledge == next.Acknowledge);
        Check(nameof(TalkServerOptions.KeepAliveTime), current.KeepAliveTime == next.KeepAliveTime);
        Check(nameof(TalkServerOptions.KeepAliveInterval), current.KeepAliveInterval == next.KeepAliveInterval);
        Check(nameof(TalkServerOptions.KeepAliveCount), current.KeepAliveCount == next.KeepAliveCount);
        Check(nameof(TalkServerOptions.MeterFactory), ReferenceEquals(current.MeterFactory, next.MeterFactory));
        Check(nameof(TalkServerOptions.TimeProvider), ReferenceEquals(current.TimeProvider, next.TimeProvider));
        return changed;
    }
}
