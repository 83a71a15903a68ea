using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;

namespace TcpTalk.Cli.Output;

/// <summary>How <see cref="MessageOutput"/> writes, and what it does when its stream does not keep up.</summary>
internal sealed class MessageOutputOptions
{
    /// <summary>Default for <see cref="MaxBufferedBytes"/>: 4 MiB, some 40,000 lines of 100 bytes.</summary>
    public const int DefaultMaxBufferedBytes = 4 * 1024 * 1024;

    /// <summary>Text lines (the default) or JSON Lines.</summary>
    public MessageOutputFormat Format { get; init; } = MessageOutputFormat.Text;

    /// <summary>
    /// What happens when the stream does not take lines as fast as messages arrive. <see cref="OutputBehind.Wait"/>
    /// (the default, for when the output is the only record): connections wait, no line is lost.
    /// <see cref="OutputBehind.Skip"/> (for when a journal is the record): connections wait only while the stream makes
    /// progress (<see cref="StalledAfter"/>); past that, lines past the buffer are skipped and counted.
    /// </summary>
    public OutputBehind WhenBehind { get; init; } = OutputBehind.Wait;

    /// <summary>
    /// Lines (in bytes) formatted but not yet taken by the stream, on top of the one write in progress, before
    /// <see cref="WhenBehind"/> applies. Default <see cref="DefaultMaxBufferedBytes"/>: enough to ride out a consumer's
    /// hiccup at tens of thousands of messages a second, small enough for any server.
    /// </summary>
    public int MaxBufferedBytes { get; init; } = DefaultMaxBufferedBytes;

    /// <summary>
    /// With <see cref="OutputBehind.Skip"/>, how long the stream may take no bytes at all before it counts as stalled.
    /// While it takes bytes (a flood into a file, a slow but reading consumer) a connection whose lines do not fit waits
    /// for room, as with <see cref="OutputBehind.Wait"/>, so no line is skipped; once it has taken nothing for this
    /// long, lines that do not fit are skipped at once, so a stalled stream delays a connection by at most this, once.
    /// Default 250 ms; <see cref="TimeSpan.Zero"/> skips as soon as the buffer is full.
    /// </summary>
    public TimeSpan StalledAfter { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// With <see cref="OutputBehind.Skip"/>, how long disposing waits for the stream to take the lines still buffered;
    /// after that they are left to the journal. Default 5 s. With <see cref="OutputBehind.Wait"/> disposing waits
    /// for every line.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where the skipped-lines warning goes (category <c>TcpTalk.Output</c>); none by default.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Creates the meter of the skipped-lines counter; null uses a process-wide meter.</summary>
    public IMeterFactory? MeterFactory { get; init; }

    /// <summary>The clock of the once-a-second warning, the stall and the drain timeout.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>What <see cref="MessageOutput"/> does when its stream falls behind.</summary>
internal enum OutputBehind
{
    /// <summary>Backpressure: connections wait for room in the buffer; no line is lost.</summary>
    Wait,

    /// <summary>
    /// Connections wait only while the stream makes progress; once it stalls (<see cref="MessageOutputOptions.StalledAfter"/>),
    /// lines that do not fit the buffer are skipped, counted and warned about.
    /// </summary>
    Skip,
}
