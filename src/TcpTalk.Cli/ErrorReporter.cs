using System.Net.Sockets;
using System.Text.RegularExpressions;
using TcpTalk.Client;
using TcpTalk.Protocol;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Cli;

/// <summary>Turns any exception into one line for stderr and an exit code. The one place errors become exit codes.</summary>
internal static partial class ErrorReporter
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
        JournalUnavailableException e => (ExitCode.JournalFailed, e.Message),
        TcpTalk.Spool.SpoolUnavailableException e => (ExitCode.SpoolFailed, e.Message),
        _ when IsJournalException(exception) => (ExitCode.JournalFailed, exception.Message),
        SocketException e when e.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown
            => (ExitCode.ConnectionClosed, "connection reset by the server"),
        OperationCanceledException => (ExitCode.Interrupted, "interrupted"),
        _ => (ExitCode.Failure, $"unexpected error: {exception.GetType().Name}: {Readable(exception)}"),
    };

    /// <summary>
    /// Every exception the journal declares (in use, not a journal, cannot be opened or created, and any it adds)
    /// means the journal cannot be used: exit 11 wherever it surfaces, serve or messages, at open or later.
    /// </summary>
    public static bool IsJournalException(Exception exception) =>
        exception.GetType().Assembly == typeof(TcpTalk.Journal.JournalFormatException).Assembly;

    /// <summary>
    /// The exception's message, never a bare resource key: with the runtime's messages stripped
    /// (<c>UseSystemResourceKeys</c>, or a library built that way) a message is <c>IO_FileNotFound_FileName, /x</c>;
    /// that becomes <c>file not found: /x</c>.
    /// </summary>
    public static string Readable(Exception exception)
    {
        var key = ResourceKey().Match(exception.Message);
        if (!key.Success)
        {
            return exception.Message;
        }

        string what = exception switch
        {
            FileNotFoundException => "file not found",
            DirectoryNotFoundException => "directory not found",
            PathTooLongException => "path too long",
            UnauthorizedAccessException => "permission denied",
            IOException => "input/output error",
            _ => "no message",
        };
        string details = exception.Message[key.Length..].Trim();
        return details.Length > 0 ? $"{what}: {details}" : what;
    }

    /// <summary><c>IO_FileNotFound_FileName</c> and its <c>", "</c>: a word with underscores, no spaces, at the start.</summary>
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+(,\s*|$)")]
    private static partial Regex ResourceKey();

    public static int Report(Exception exception, TextWriter stderr)
    {
        var (code, message) = Describe(exception);
        stderr.WriteLine($"tcptalk: {OneLine(message)}");
        return (int)code;
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}
