using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk send HOST</c> on a terminal: a prompt, one message per line typed, and the server watched meanwhile.
/// </summary>
/// <remarks>
/// <para>Reading a terminal line cannot be cancelled, so the line is read on its own task and raced against Ctrl+C and
/// the server's close: Ctrl+C ends the session at once (exit 130), and a close is reported as it happens, not at the
/// next line.</para>
/// <para>A pause longer than the server's idle timeout (60 s by default) makes the server close the connection.
/// Nothing can be sent to prevent that: every frame is a message (in NUL framing even an empty one), so a keepalive
/// would store junk in the journal. Instead the session says at once that the server closed the idle connection and
/// reconnects when the next line is typed: the user loses nothing and the journal gets only what was typed. Any
/// other close (an error frame, a reset, messages not read) ends the session with its exit code.</para>
/// </remarks>
internal sealed class InteractiveSend(HostAndPort server, TalkClientOptions options, MessageFramer framer, ConnectionWatch connection, bool verbose)
{
    private const string Prompt = "> ";
    private readonly TextWriter _stderr = Console.Error;
    private readonly SemaphoreSlim _ackArrived = new(0, int.MaxValue);
    private TalkClient? _client;
    private int _sent;

    public async Task<int> RunAsync(TextReader terminal, CancellationToken cancel)
    {
        options.OnServerFrame = OnServerFrame;
        var interrupted = Task.Delay(Timeout.Infinite, cancel);
        try
        {
            _client = await SendCommand.ConnectAsync(server, options, connection, verbose, cancel).ConfigureAwait(false);
            await _stderr.WriteLineAsync(Introduction()).ConfigureAwait(false);
            Task<string?>? typed = null;
            while (true)
            {
                await _stderr.WriteAsync(Prompt).ConfigureAwait(false);
                typed ??= Task.Run(terminal.ReadLine, CancellationToken.None); // a terminal read cannot be cancelled
                var closed = _client?.ServerClosed ?? Task.Delay(Timeout.Infinite, CancellationToken.None);
                var done = await Task.WhenAny(typed, closed, interrupted).ConfigureAwait(false);
                if (done == interrupted)
                {
                    await _stderr.WriteLineAsync().ConfigureAwait(false); // end the prompt line: "tcptalk: interrupted" follows
                    throw new OperationCanceledException(cancel);
                }

                if (done == closed)
                {
                    await _stderr.WriteLineAsync().ConfigureAwait(false);
                    await ServerClosedAsync().ConfigureAwait(false);
                    continue;
                }

                string? line = await typed.ConfigureAwait(false);
                typed = null;
                if (line is null)
                {
                    await _stderr.WriteLineAsync().ConfigureAwait(false); // Ctrl+D: end the prompt line
                    break;
                }

                if (line.Length == 0)
                {
                    continue; // an Enter alone sends nothing (see --help); '' as an argument sends an empty message
                }

                if (!framer.CanCarry(options.Encoding.GetBytes(line), out string? reason))
                {
                    await _stderr.WriteLineAsync($"tcptalk: not sent: {reason}").ConfigureAwait(false);
                    continue;
                }

                await SendAsync(line, cancel).WaitAsync(cancel).ConfigureAwait(false);
            }

            if (_client is { } last)
            {
                await last.CompleteAsync(cancel).ConfigureAwait(false);
            }

            if (verbose)
            {
                await _stderr.WriteLineAsync($"sent {_sent + (_client?.MessagesSent ?? 0)} message(s)").ConfigureAwait(false);
            }

            return (int)ExitCode.Success;
        }
        finally
        {
            if (_client is not null)
            {
                await _client.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private string Introduction()
    {
        string framing = options.Framing switch
        {
            FramingMode.Nul => "ended by a NUL byte",
            FramingMode.Line => "ended by a line feed",
            FramingMode.Octet => "after its length and a space, RFC 6587 octet counting",
            _ => $"after its length in {(options.Framing == FramingMode.U16BE ? 2 : 4)} big-endian bytes",
        };
        return $"Each line you type is sent as one message ({framing}); empty lines are skipped. " +
               "Ctrl+D finishes, Ctrl+C interrupts. If the server closes the connection while you pause, the next line reconnects.";
    }

    private async Task SendAsync(string line, CancellationToken cancel)
    {
        if (_client is null)
        {
            try
            {
                _client = await SendCommand.ConnectAsync(server, options, connection, verbose, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                var (code, message) = ErrorReporter.Describe(e);
                throw new UserErrorException(code, $"{message}; the line was not sent", e);
            }

            await _stderr.WriteLineAsync($"reconnected to {server}").ConfigureAwait(false);
        }

        await _client.SendAsync(line, cancel).ConfigureAwait(false);
        if (options.RequireAcknowledgements)
        {
            // Wait for this line's acknowledgement before the next prompt, so that "acknowledged as id N" (-v) is
            // printed under the line it belongs to; a missing one is reported when the session ends.
            await Task.WhenAny(_ackArrived.WaitAsync(options.AckTimeout, cancel), _client.ServerClosed).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The server closed while the user was at the prompt. An idle timeout with everything taken is reported and the
    /// next line reconnects; anything else ends the session with its own error.
    /// </summary>
    private async Task ServerClosedAsync()
    {
        var client = _client!;
        _client = null;
        _sent += client.MessagesSent;
        try
        {
            await client.CompleteAsync().ConfigureAwait(false);
            await _stderr.WriteLineAsync($"tcptalk: server closed the connection after {client.MessagesSent} message(s), all read; the next line reconnects").ConfigureAwait(false);
        }
        catch (ServerErrorException e) when (IsIdleTimeout(e.ServerMessage) && (!options.RequireAcknowledgements || client.AcknowledgedIds.Count == client.MessagesSent))
        {
            await _stderr.WriteLineAsync($"tcptalk: server closed the idle connection ({e.ServerMessage}); the next line reconnects").ConfigureAwait(false);
        }
        finally
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The server's idle-timeout error frame, as docs/PROTOCOL.md gives it: <c>error: no complete message for 60 s (idle timeout)</c>.</summary>
    private static bool IsIdleTimeout(string sentence) => sentence.EndsWith("(idle timeout)", StringComparison.Ordinal);

    private void OnServerFrame(ServerFrame frame)
    {
        switch (frame.Kind)
        {
            case ServerFrameKind.Acknowledgement:
                if (verbose)
                {
                    _stderr.WriteLine($"acknowledged as id {frame.AcknowledgedId}");
                }

                _ackArrived.Release();
                break;
            case ServerFrameKind.Other when verbose:
                _stderr.WriteLine($"server sent: {frame.Text}");
                break;
            default:
                break; // an error frame: the server closes right after, and the close reports it
        }
    }
}
