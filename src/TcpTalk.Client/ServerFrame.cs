namespace TcpTalk.Client;

/// <summary>What one frame the server sent after the greeting was, as reported to <see cref="TalkClientOptions.OnServerFrame"/>.</summary>
public enum ServerFrameKind
{
    /// <summary><c>ack &lt;id&gt;</c>: the message was stored under <see cref="ServerFrame.AcknowledgedId"/>.</summary>
    Acknowledgement,

    /// <summary><c>error: &lt;sentence&gt;</c>: the server refused something and closes the connection.</summary>
    Error,

    /// <summary>A frame this client does not know (a newer server's); ignored.</summary>
    Other,
}

/// <summary>One frame the server sent after the greeting.</summary>
/// <param name="Kind">Acknowledgement, error, or unknown.</param>
/// <param name="Text">The frame decoded and escaped for display: for an error its sentence without <c>error: </c>.</param>
/// <param name="AcknowledgedId">The journal id of an acknowledgement; 0 otherwise.</param>
public sealed record ServerFrame(ServerFrameKind Kind, string Text, long AcknowledgedId);
