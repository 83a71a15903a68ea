using TcpTalk.Client;

namespace TcpTalk.Cli.Commands;

/// <summary>Follows the connection attempts: prints them with <c>-v</c>, and remembers whether one connected.</summary>
internal sealed class ConnectionWatch(bool verbose)
{
    private volatile bool _connected;

    /// <summary>Whether some attempt got a TCP connection (so a later failure is the server's answer, not the network's).</summary>
    public bool Connected => _connected;

    public void OnAttempt(ConnectAttempt attempt)
    {
        if (attempt.Outcome == "connected")
        {
            _connected = true;
        }

        if (verbose)
        {
            Console.Error.WriteLine(attempt.Outcome is null
                ? $"connecting to {attempt.Endpoint}"
                : $"  {attempt.Endpoint}: {attempt.Outcome} after {attempt.Elapsed.TotalMilliseconds:0.0} ms");
        }
    }
}
