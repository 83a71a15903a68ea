using System.Net.Sockets;
using TcpTalk.Client;
using TcpTalk.Protocol;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Cli;

/// <summary>Turns any exception into one line for stderr and an exit code. The one place errors become exit codes.</summary>
internal static class ErrorReporter
{
    public static (ExitCode Code, string Message) Describe(Exception exception) => exception switch
    {
        UserErrorException e => (e.Code, e.Message),
        HostNotFoundException e => (ExitCode.HostNotFound, e.Message),
        ConnectFailedException e => (ExitCode.ConnectFailed, e.Message),
        TlsHandshakeException e => (ExitCode.TlsFailed, e.Message),
        TalkTimeoutException e => (ExitCode.Timeout, e.Message),
        NotAcknowledgedException e => (ExitCode.NotAcknowledged, e.Message),
        ServerErrorException e => (ExitCode.ServerRefused, e.Message),
        ServerClosedException e => (ExitCode.ConnectionClosed, e.Message),
        ProtocolException e => (ExitCode.ProtocolError, "protocol error: " + e.Message),
        ListenException e => (ExitCode.ListenFailed, e.Message),
        TcpTalk.Journal.JournalInUseException e => (ExitCode.JournalFailed, e.Message),
        TcpTalk.Journal.JournalFormatException e => (ExitCode.JournalFailed, e.Message),
        JournalUnavailableException e => (ExitCode.JournalFailed, e.Message),
        SocketException e when e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown
            => (ExitCode.ConnectionClosed, "connection reset by the server"),
        OperationCanceledException => (ExitCode.Interrupted, "interrupted"),
        _ => (ExitCode.Failure, $"unexpected error: {exception.GetType().Name}: {exception.Message}"),
    };

    public static int Report(Exception exception, TextWriter stderr)
    {
        var (code, message) = Describe(exception);
        stderr.WriteLine($"tcptalk: {OneLine(message)}");
        return (int)code;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
