namespace TcpTalk.Cli;

/// <summary>Process-wide socket settings that must be chosen before the first socket operation.</summary>
internal static class SocketTuning
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Runs socket continuations on the epoll thread instead of hopping to the thread pool (Unix only; read once, before
    /// the first socket operation). The connection handlers never block, so this only removes a hop per I/O: measured
    /// about a third less server CPU per session (bench/). A value set by the user wins. A TLS server keeps the default:
    /// its continuations do handshake cryptography, which must not hold up every other connection's I/O.
    /// </summary>
    public static void UseInlineCompletions(bool tls)
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null && !tls)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }
    }
}
