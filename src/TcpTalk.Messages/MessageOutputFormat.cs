namespace TcpTalk.Messages;

/// <summary>How <see cref="MessageLineWriter"/> writes each message: one line per message, in one of two forms.</summary>
public enum MessageOutputFormat
{
    /// <summary>
    /// <c>&lt;UTC time&gt; &lt;client-ip&gt;:&lt;port&gt; &lt;escaped text&gt;</c>, one line per message: what
    /// <c>tcptalk serve</c> prints and <c>tcptalk messages</c> shows. The default.
    /// </summary>
    Text,

    /// <summary>
    /// One JSON object per line (JSON Lines) with every stored field: <c>tcptalk serve --output json</c> and
    /// <c>tcptalk messages --json</c>.
    /// </summary>
    Json,
}
