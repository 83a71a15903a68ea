using System.Globalization;
using System.Threading.Channels;
using TcpTalk.Client;
using TcpTalk.Protocol;
using TcpTalk.Spool;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk send --spool DIR</c>: every message (argument or stdin line) goes into the spool first, then to the
/// server, and leaves the spool once acknowledged; failures the server may not repeat are retried with backoff.
/// Prints no greeting (a log shipper's stdout stays clean); <c>-v</c> shows each connection, retry and the backlog.
/// </summary>
internal static class SpoolSend
{
    /// <summary>Most lines read ahead of the spool: bounds memory while the spool is full or slow.</summary>
    private const int ReadAhead = 1024;

    /// <summary>Most messages, and bytes, stored in one spool transaction (one fsync).</summary>
    private const int BatchMessages = 512;
    private const int BatchBytes = 1 << 20;

    /// <summary>Prints the backlog of the spool in <paramref name="directory"/> as <c>key: value</c> lines.</summary>
    public static int PrintStatus(string directory, TimeProvider time)
    {
        var backlog = SqliteMessageSpool.ReadBacklog(directory);
        var now = time.GetUtcNow();
        var stdout = Console.Out;
        stdout.WriteLine($"spool: {Path.GetFullPath(directory)}");
        stdout.WriteLine(Invariant($"messages: {backlog.Messages}"));
        stdout.WriteLine(Invariant($"bytes: {backlog.Bytes}"));
        stdout.WriteLine(backlog.Oldest is { } oldest
            ? $"oldest: {oldest.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} ({DurationText.Format(Rounded(now - oldest))} ago)"
            : "oldest: none");
        stdout.WriteLine(Invariant($"accepted: {backlog.LastSequence}"));
        stdout.Flush();
        return (int)ExitCode.Success;
    }

    public static async Task<int> RunAsync(HostAndPort server, string directory, ReconnectingSenderOptions options, string[] messages, TextReader? lines,
        bool verbose, CancellationToken cancel)
    {
        using var spool = SqliteMessageSpool.Open(directory, options.Client.TimeProvider);
        if (verbose)
        {
            var left = spool.Backlog;
            await Console.Error.WriteLineAsync(left.Messages > 0
                ? Invariant($"spool {spool.Directory}: {left.Messages} message(s), {left.Bytes} bytes left from before; they are sent first")
                : $"spool {spool.Directory}: empty").ConfigureAwait(false);
            options.OnRetry = retry => Console.Error.WriteLine(Invariant(
                $"retry in {DurationText.Format(Rounded(retry.Delay))} (failure {retry.Attempt} in a row: {ErrorReporter.Describe(retry.Error).Message}); backlog {Describe(retry.Backlog)}"));
            options.OnConnected = connected =>
            {
                string outage = connected.Outage > TimeSpan.Zero ? $" after an outage of {DurationText.Format(Rounded(connected.Outage))}" : "";
                Console.Error.WriteLine(Invariant($"connected: {connected.Client.LocalEndPoint} -> {connected.Client.RemoteEndPoint}{outage}; greeting '{connected.Client.Greeting}'; sending backlog {Describe(connected.Backlog)}"));
            };
        }

        var sender = new ReconnectingSender(server.Host, server.Port, spool, options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var run = sender.RunAsync(stop.Token);
        var feed = FeedAsync(sender, messages, lines, options.Client, options.MaxSpoolBytes, stop.Token);
        if (await Task.WhenAny(run, feed).ConfigureAwait(false) == run)
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await run.ConfigureAwait(false); // throws the failure that ended it; a clean end needs the input's end first
        }

        await feed.ConfigureAwait(false); // a line that cannot be sent: usage error, the spool keeps what came before
        using (DrainProgress.StartIfTerminal(sender))
        {
            await run.ConfigureAwait(false);
        }

        if (verbose)
        {
            await Console.Error.WriteLineAsync(Invariant(
                $"delivered {sender.Delivered} message(s) over {sender.Connections} connection(s); {sender.Resent} sent again after a reconnect (may be stored twice); longest outage {DurationText.Format(Rounded(sender.LongestOutage))}")).ConfigureAwait(false);
        }

        return (int)ExitCode.Success;
    }

    /// <summary>Appends the arguments, or stdin's lines as they come, in batches; then says no more come.</summary>
    private static async Task FeedAsync(ReconnectingSender sender, string[] messages, TextReader? lines, TalkClientOptions options, long maxSpoolBytes,
        CancellationToken cancel)
    {
        if (lines is null)
        {
            var batch = messages.Select(m => (ReadOnlyMemory<byte>)options.Encoding.GetBytes(m)).ToList();
            if (batch.Count > 0)
            {
                await sender.AppendAsync(batch, cancel).ConfigureAwait(false);
            }

            sender.CompleteAdding();
            return;
        }

        var framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        var read = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
        // On a thread of its own: Console.In's ReadLineAsync blocks its caller until a line arrives.
        var reading = Task.Run(() => ReadLinesAsync(lines, framer, options, read.Writer, cancel), cancel);
        long batchBytes = Math.Min(BatchBytes, maxSpoolBytes); // a batch never passes the limit alone (unless one line does)
        byte[]? carried = null;
        var pending = new List<ReadOnlyMemory<byte>>(BatchMessages);
        while (carried is not null || await read.Reader.WaitToReadAsync(cancel).ConfigureAwait(false))
        {
            // Everything already read goes in one transaction: one fsync for a burst, one per line when they trickle.
            long bytes = 0;
            if (carried is not null)
            {
                pending.Add(carried);
                bytes = carried.Length;
                carried = null;
            }

            while (pending.Count < BatchMessages && read.Reader.TryRead(out byte[]? line))
            {
                if (pending.Count > 0 && bytes + line.Length > batchBytes)
                {
                    carried = line; // the first of the next batch
                    break;
                }

                pending.Add(line);
                bytes += line.Length;
            }

            await sender.AppendAsync(pending, cancel).ConfigureAwait(false);
            pending.Clear();
        }

        await reading.ConfigureAwait(false);
        sender.CompleteAdding();
    }

    private static async Task ReadLinesAsync(TextReader lines, MessageFramer framer, TalkClientOptions options, ChannelWriter<byte[]> output, CancellationToken cancel)
    {
        Exception? failure = null;
        try
        {
            long number = 0;
            // A line longer than the limit in characters is longer in bytes too (every encoding takes 1 byte or more
            // per character): stop there rather than hold a line with no end (a stream without newlines) in memory.
            var bounded = new BoundedLineReader(lines, options.MaxMessageBytes);
            while (await ReadLineAsync(bounded, number + 1, options.MaxMessageBytes, cancel).ConfigureAwait(false) is { } line)
            {
                number++;
                byte[] payload = options.Encoding.GetBytes(line);
                if (!framer.CanCarry(payload, out string? reason))
                {
                    throw new UserErrorException(ExitCode.Usage, Invariant($"stdin line {number}: {reason}; the {number - 1} line(s) before it are spooled"));
                }

                await output.WriteAsync(payload, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally
        {
            output.TryComplete(failure);
        }
    }

    private static async ValueTask<string?> ReadLineAsync(BoundedLineReader lines, long number, int maxBytes, CancellationToken cancel)
    {
        try
        {
            return await lines.ReadLineAsync(cancel).ConfigureAwait(false);
        }
        catch (LineTooLongException e)
        {
            throw new UserErrorException(ExitCode.Usage, Invariant(
                $"stdin line {number}: message is longer than the limit of {maxBytes} bytes (reading stopped after {e.CharsRead} characters of it); the {number - 1} line(s) before it are spooled"), e);
        }
    }

    internal static string Describe(SpoolBacklog backlog) => Invariant($"{backlog.Messages} message(s), {backlog.Bytes} bytes");

    private static TimeSpan Rounded(TimeSpan time) => TimeSpan.FromMilliseconds(Math.Round(Math.Max(0, time.TotalMilliseconds)));

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
