using Microsoft.Extensions.Logging;

namespace TcpTalk.Cli.Output;

/// <summary>The log messages of <c>serve</c>'s message output (category <c>TcpTalk.Output</c>), with stable event ids.</summary>
internal static partial class OutputLog
{
    /// <summary>The logger category.</summary>
    public const string Category = "TcpTalk.Output";

    [LoggerMessage(100, LogLevel.Warning, "Output is not keeping up: skipped {Count} line(s) since the last such warning; the journal has every message (tcptalk messages shows them)")]
    public static partial void LinesSkipped(ILogger logger, long count);

    [LoggerMessage(101, LogLevel.Warning, "Output did not take its last buffered lines within {Timeout}; the journal has them (tcptalk messages shows them)")]
    public static partial void DrainTimedOut(ILogger logger, TimeSpan timeout);
}
