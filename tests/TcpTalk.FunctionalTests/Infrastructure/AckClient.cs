using System.Net;
using System.Text;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// A raw client of <c>serve --ack</c> that sends one message at a time and reads the server's answer to it: the
/// journal id of an <c>ack</c>, or the sentence of an <c>error:</c> frame (after which the server closes).
/// </summary>
public sealed class AckClient : IDisposable
{
    private readonly RawClient _client;

    private AckClient(RawClient client, string greeting)
    {
        _client = client;
        Greeting = greeting;
    }

    public string Greeting { get; }

    public static async Task<AckClient> ConnectAsync(IPEndPoint endpoint)
    {
        var client = await RawClient.ConnectAsync(endpoint);
        try
        {
            return new AckClient(client, Encoding.UTF8.GetString(await client.ReadFrameAsync()));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends <paramref name="text"/> (NUL framing) and returns the next frame: <c>ack N</c> or <c>error: ...</c>.</summary>
    public async Task<Reply> SendAsync(string text, TimeSpan? timeout = null)
    {
        await _client.SendAsync(Encoding.UTF8.GetBytes(text + "\0"));
        string frame = Encoding.UTF8.GetString(await _client.ReadFrameAsync(timeout: timeout));
        return frame.StartsWith("ack ", StringComparison.Ordinal) && long.TryParse(frame.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture, out long id)
            ? new Reply(id, null)
            : new Reply(null, frame);
    }

    /// <summary>Reads until the server closes; returns what it sent meanwhile.</summary>
    public async Task<string> ReadToEndAsync() => Encoding.UTF8.GetString(await _client.ReadToEndAsync());

    public void Dispose() => _client.Dispose();

    /// <summary>The answer to one message: the journal id it was acknowledged with, or another frame (an error).</summary>
    public readonly record struct Reply(long? AckId, string? Frame);
}
