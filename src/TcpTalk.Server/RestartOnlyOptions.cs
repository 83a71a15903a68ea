namespace TcpTalk.Server;

/// <summary>
/// The options a running <see cref="TalkServer"/> cannot take from <see cref="TalkServer.Reconfigure"/>: what its
/// listeners were bound with (listen addresses, backlog, the keepalive set on the listening sockets), the framing,
/// the journal and acknowledgements, the meter factory and the clock. The one list of them: comparing
/// (<see cref="Differences"/>), naming (<see cref="Names"/>, which the hosting's settings keys follow) and copying
/// (<see cref="Copy"/>) all read it, so an option added here is refused, named and kept alike.
/// </summary>
internal static class RestartOnlyOptions
{
    /// <summary>One restart-only property: its name, whether two options agree on it, and how to copy it across.</summary>
    private sealed record Option(string Name, Func<TalkServerOptions, TalkServerOptions, bool> Same, Action<TalkServerOptions, TalkServerOptions> Copy);

    // Declaration order of TalkServerOptions, so the first difference named is the first property a reader meets.
    private static readonly Option[] All =
    [
        new(nameof(TalkServerOptions.Listen), (a, b) => a.Listen.SequenceEqual(b.Listen), (from, into) => Replace(into.Listen, from.Listen)),
        new(nameof(TalkServerOptions.Port), (a, b) => a.Port == b.Port, (from, into) => into.Port = from.Port),
        new(nameof(TalkServerOptions.UnixSocketMode), (a, b) => a.UnixSocketMode == b.UnixSocketMode, (from, into) => into.UnixSocketMode = from.UnixSocketMode),
        // systemd's sockets, taken once at start
        new(nameof(TalkServerOptions.InheritedListeners), (a, b) => a.InheritedListeners.SequenceEqual(b.InheritedListeners),
            (from, into) => Replace(into.InheritedListeners, from.InheritedListeners)),
        new(nameof(TalkServerOptions.Framing), (a, b) => a.Framing == b.Framing, (from, into) => into.Framing = from.Framing),
        new(nameof(TalkServerOptions.ListenBacklog), (a, b) => a.ListenBacklog == b.ListenBacklog, (from, into) => into.ListenBacklog = from.ListenBacklog),
        new(nameof(TalkServerOptions.Journal), (a, b) => ReferenceEquals(a.Journal, b.Journal), (from, into) => into.Journal = from.Journal),
        new(nameof(TalkServerOptions.Acknowledge), (a, b) => a.Acknowledge == b.Acknowledge, (from, into) => into.Acknowledge = from.Acknowledge),
        new(nameof(TalkServerOptions.KeepAliveTime), (a, b) => a.KeepAliveTime == b.KeepAliveTime, (from, into) => into.KeepAliveTime = from.KeepAliveTime),
        new(nameof(TalkServerOptions.KeepAliveInterval), (a, b) => a.KeepAliveInterval == b.KeepAliveInterval, (from, into) => into.KeepAliveInterval = from.KeepAliveInterval),
        new(nameof(TalkServerOptions.KeepAliveCount), (a, b) => a.KeepAliveCount == b.KeepAliveCount, (from, into) => into.KeepAliveCount = from.KeepAliveCount),
        new(nameof(TalkServerOptions.MeterFactory), (a, b) => ReferenceEquals(a.MeterFactory, b.MeterFactory), (from, into) => into.MeterFactory = from.MeterFactory),
        new(nameof(TalkServerOptions.TimeProvider), (a, b) => ReferenceEquals(a.TimeProvider, b.TimeProvider), (from, into) => into.TimeProvider = from.TimeProvider),
    ];

    /// <summary>The names of the restart-only properties, in declaration order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(o => o.Name)];

    /// <summary>The properties of <paramref name="next"/> that differ from <paramref name="current"/> and cannot change while serving, in declaration order.</summary>
    public static IReadOnlyList<string> Differences(TalkServerOptions current, TalkServerOptions next) =>
        [.. All.Where(o => !o.Same(current, next)).Select(o => o.Name)];

    /// <summary>Sets every restart-only property of <paramref name="into"/> to the value <paramref name="from"/> has (the same list items, the same journal, clock and meter factory).</summary>
    public static void Copy(TalkServerOptions from, TalkServerOptions into)
    {
        if (ReferenceEquals(from, into))
        {
            return; // clearing a list to refill it from itself would empty it
        }

        foreach (var option in All)
        {
            option.Copy(from, into);
        }
    }

    private static void Replace<T>(ICollection<T> into, IEnumerable<T> from)
    {
        into.Clear();
        foreach (var item in from)
        {
            into.Add(item);
        }
    }
}
