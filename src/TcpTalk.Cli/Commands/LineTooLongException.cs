namespace TcpTalk.Cli.Commands;

/// <summary>A line longer than the <see cref="BoundedLineReader"/>'s limit; <see cref="CharsRead"/> of it were read.</summary>
internal sealed class LineTooLongException(long charsRead) : Exception($"line is longer than the limit ({charsRead} characters read)")
{
    /// <summary>How many characters of the line were read before stopping.</summary>
    public long CharsRead { get; } = charsRead;
}
