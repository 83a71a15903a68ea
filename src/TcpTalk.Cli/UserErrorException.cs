namespace TcpTalk.Cli;

/// <summary>
/// A failure the user can act on: caught once in Program, printed as one line on stderr (no stack trace), and turned
/// into <see cref="Code"/>.
/// </summary>
public sealed class UserErrorException(ExitCode code, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>The process exit code.</summary>
    public ExitCode Code { get; } = code;
}
