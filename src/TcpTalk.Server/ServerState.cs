namespace TcpTalk.Server;

/// <summary>Where a <see cref="TalkServer"/> is in its life; it only ever moves forward.</summary>
internal enum ServerState
{
    /// <summary>Constructed; nothing bound.</summary>
    New,

    /// <summary>Listening and serving.</summary>
    Started,

    /// <summary><see cref="TalkServer.StopAsync"/> is draining the connections.</summary>
    Stopping,

    /// <summary>Stopped, or never served because binding failed.</summary>
    Stopped,
}
