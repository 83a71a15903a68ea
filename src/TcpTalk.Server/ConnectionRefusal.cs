namespace TcpTalk.Server;

/// <summary>Why a connection may not be served.</summary>
/// <param name="Reason">The sentence for the log and, unless <paramref name="Silent"/>, for the client's error line.</param>
/// <param name="Silent">
/// True for access control: the connection is closed without a word, so a scanner learns nothing. False for a limit:
/// the client is told, so it knows to retry.
/// </param>
/// <param name="Kind">The metric tag <c>reason</c>: <c>denied</c>, <c>not_allowed</c>, <c>max_connections</c>...</param>
internal sealed record ConnectionRefusal(string Reason, bool Silent, string Kind)
{
    /// <summary>The address is in <see cref="TalkServerOptions.Deny"/>.</summary>
    public static ConnectionRefusal Denied { get; } = new("address denied", Silent: true, "denied");

    /// <summary><see cref="TalkServerOptions.Allow"/> is set and the address is in none of its networks.</summary>
    public static ConnectionRefusal NotAllowed { get; } = new("address not allowed", Silent: true, "not_allowed");
}
