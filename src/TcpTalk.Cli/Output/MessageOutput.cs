using System.Buffers;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TcpTalk.Messages;

namespace TcpTalk.Cli.Output;

/// <summary>
/// <c>tcptalk serve</c>'s output: one line per message on a stream (stdout), formatted by
/// <see cref="MessageLineWriter"/> (text lines or JSON Lines). A stream that stops taking lines never blocks the
/// connections while a journal keeps the record (<see cref="OutputBehind.Skip"/>); it makes them wait when the
/// output is the only record (<see cref="OutputBehind.Wait"/>).
/// </summary>
/// <remarks>
/// Connections format their batch into the filling buffer under one short lock: no allocation and no system call
/// per message. A writer thread of its own swaps that buffer for its spare and writes it out with the lock released,
/// so a write that blocks (a full pipe, a stuck consumer) holds only that thread. It writes as soon as the connections
/// go idle (after a gathering pause of a millisecond, invisible to a person), so a line typed by a human shows at
/// once while a flood of lines costs one write per many lines. When the filling buffer holds
/// <see cref="MessageOutputOptions.MaxBufferedBytes"/> while a write is still in progress, the stream is behind:
/// <see cref="OutputBehind.Wait"/> makes the connection wait for the swap (backpressure, as TCP then slows its
/// client); <see cref="OutputBehind.Skip"/> does the same while the stream takes bytes, and once it has taken none for
/// <see cref="MessageOutputOptions.StalledAfter"/> drops the batch's lines, counts them in
/// <c>tcptalk.server.output_lines_skipped</c> and warns at most once a second with the count. The writer writes in
/// chunks of <see cref="WriteChunkBytes"/>, so a stream that is slow but reading shows progress within a write.
/// A stream that fails (a closed pipe) turns the output off; the server keeps serving.
/// </remarks>
internal sealed class MessageOutput : IMessageSink, IAsyncDisposable
{
    /// <summary>The meter of the skipped-lines counter: the server's, so one dotnet-counters command shows them all.</summary>
    public const string MeterName = "TcpTalk.Server";

    private const int InitialBufferBytes = 128 * 1024;
    private const int WriteWithoutPauseBytes = 64 * 1024; // a backlog this big is written at once, without gathering
    private const int WriteChunkBytes = 1024 * 1024;
    private static readonly TimeSpan s_gatherDelay = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_warningInterval = TimeSpan.FromSeconds(1);
    private static readonly Meter s_sharedMeter = new(MeterName);

    private readonly Stream _stream;
    private readonly MessageOutputOptions _options;
    private readonly MessageLineWriter _lines;
    private readonly ILogger _logger;
    private readonly Counter<long> _skippedLines;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _dirty = new(0, 1);
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private OutputLineBuffer _filling;
    private OutputLineBuffer? _spare;
    private TaskCompletionSource? _room;
    private bool _signalled;
    private long _progressAt; // while a write is in progress (no spare): its start, or its last chunk taken by the stream
    private bool _closing;
    private Exception? _failure;
    private long _skipped;
    private long _skippedUnreported;
    private long _lastWarningAt;

    /// <summary>Creates the output on <paramref name="stream"/>, which it does not own, and starts its writer thread.</summary>
    public MessageOutput(Stream stream, MessageOutputOptions? options = null)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        _options = options ?? new MessageOutputOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBufferedBytes, 1, nameof(options));
        _lines = new MessageLineWriter(_options.Format);
        // The filling buffer reaches the bound plus the batch that crossed it (up to a read's messages, escaped).
        int retain = (int)Math.Min(Array.MaxLength, 2L * Math.Max(_options.MaxBufferedBytes, InitialBufferBytes));
        (_filling, _spare) = (new OutputLineBuffer(InitialBufferBytes, retain), new OutputLineBuffer(InitialBufferBytes, retain));
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger(OutputLog.Category);
        var meter = _options.MeterFactory?.Create(MeterName) ?? s_sharedMeter;
        _skippedLines = meter.CreateCounter<long>("tcptalk.server.output_lines_skipped", "{line}",
            "Message lines serve's output skipped because stdout did not keep up (the journal has them)");
        new Thread(WriteLoop) { IsBackground = true, Name = "tcptalk output" }.Start();
    }

    /// <summary>Lines skipped since start because the stream did not keep up (<see cref="OutputBehind.Skip"/> only).</summary>
    public long SkippedLines => Interlocked.Read(ref _skipped);

    /// <inheritdoc/>
    public ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        Task? room;
        TimeSpan patience;
        long warn = 0;
        lock (_gate)
        {
            if (TryAppendLocked(batch))
            {
                return ValueTask.CompletedTask;
            }

            room = RoomLocked(out patience);
            if (room is null)
            {
                warn = SkipLocked(batch.Count);
            }
        }

        if (room is not null)
        {
            return WaitForRoomAsync(batch, room, patience, cancellationToken);
        }

        ReportSkipped(batch.Count, warn);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes what is buffered and stops the writer (bounded by the drain timeout with a journal).</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_closing)
            {
                return;
            }

            _closing = true;
            SignalLocked();
            ReleaseRoomLocked();
        }

        if (_options.WhenBehind == OutputBehind.Skip)
        {
            try
            {
                await _writerDone.Task.WaitAsync(_options.DrainTimeout, _options.TimeProvider).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The stream still blocks the writer thread; it is a background thread and the journal has the lines.
                OutputLog.DrainTimedOut(_logger, _options.DrainTimeout);
                return;
            }
        }
        else
        {
            await _writerDone.Task.ConfigureAwait(false);
        }

        long unreported = Interlocked.Exchange(ref _skippedUnreported, 0);
        if (unreported > 0)
        {
            OutputLog.LinesSkipped(_logger, unreported);
        }

        _lines.Dispose();
        _dirty.Dispose();
    }

    /// <summary>Formats the batch into the filling buffer when there is room (or when nothing will ever be written).</summary>
    private bool TryAppendLocked(in MessageBatch batch)
    {
        if (_failure is not null || _closing)
        {
            return true; // stdout is gone (closed pipe) or the server is done: keep serving; the journal has the messages
        }

        if (_filling.Length >= _options.MaxBufferedBytes)
        {
            return false;
        }

        _lines.Write(batch, _filling);
        SignalLocked();
        return true;
    }

    /// <summary>
    /// What a batch that does not fit waits on for room, and for how long (<paramref name="patience"/>: forever with
    /// <see cref="OutputBehind.Wait"/>; with <see cref="OutputBehind.Skip"/> until the stream has taken nothing for
    /// <see cref="MessageOutputOptions.StalledAfter"/>); null when the stream has stalled and the lines are skipped.
    /// </summary>
    private Task? RoomLocked(out TimeSpan patience)
    {
        patience = Timeout.InfiniteTimeSpan;
        if (_options.WhenBehind == OutputBehind.Skip)
        {
            var quiet = _spare is null ? _options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _progressAt)) : TimeSpan.Zero;
            patience = _options.StalledAfter - quiet;
            if (patience <= TimeSpan.Zero)
            {
                return null;
            }
        }

        return (_room ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
    }

    private async ValueTask WaitForRoomAsync(MessageBatch batch, Task room, TimeSpan patience, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                await room.WaitAsync(patience, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Patience ran out: whether the stream has stalled (or took bytes meanwhile) is decided below.
            }

            long warn;
            lock (_gate)
            {
                if (TryAppendLocked(batch))
                {
                    return;
                }

                if (RoomLocked(out patience) is { } next)
                {
                    room = next;
                    continue;
                }

                warn = SkipLocked(batch.Count);
            }

            ReportSkipped(batch.Count, warn);
            return;
        }
    }

    private void ReportSkipped(int lines, long warn)
    {
        _skippedLines.Add(lines);
        if (warn > 0)
        {
            OutputLog.LinesSkipped(_logger, warn);
        }
    }

    /// <summary>Counts skipped lines; returns the count to warn about now, or 0 within a second of the last warning.</summary>
    private long SkipLocked(int lines)
    {
        _skipped += lines;
        _skippedUnreported += lines;
        return TakeDueWarningLocked();
    }

    private long TakeDueWarningLocked()
    {
        long now = _options.TimeProvider.GetTimestamp();
        if (_skippedUnreported == 0
            || (_lastWarningAt != 0 && _options.TimeProvider.GetElapsedTime(_lastWarningAt, now) < s_warningInterval))
        {
            return 0;
        }

        _lastWarningAt = now;
        long count = _skippedUnreported;
        _skippedUnreported = 0;
        return count;
    }

    private void SignalLocked()
    {
        if (!_signalled && (_filling.Length > 0 || _closing))
        {
            _signalled = true;
            _dirty.Release();
        }
    }

    private void ReleaseRoomLocked()
    {
        _room?.TrySetResult();
        _room = null;
    }

    private void WriteLoop()
    {
        try
        {
            while (true)
            {
                // Skipped lines not yet warned about: wake within a second to warn even if no line comes.
                bool woken = _dirty.Wait(Interlocked.Read(ref _skippedUnreported) > 0 ? s_warningInterval : Timeout.InfiniteTimeSpan);
                WarnIfDue();
                if (!woken)
                {
                    continue;
                }

                bool pause;
                lock (_gate)
                {
                    pause = !_closing && _filling.Length < WriteWithoutPauseBytes;
                }

                if (pause)
                {
                    Thread.Sleep(s_gatherDelay); // let lines gather: one write for many
                }

                OutputLineBuffer full;
                lock (_gate)
                {
                    _signalled = false;
                    if (_filling.Length == 0)
                    {
                        if (_closing)
                        {
                            return;
                        }

                        continue;
                    }

                    full = _filling;
                    _filling = _spare!;
                    _spare = null; // a write is in progress until the buffer comes back as the spare
                    Interlocked.Exchange(ref _progressAt, _options.TimeProvider.GetTimestamp());
                    ReleaseRoomLocked(); // connections waiting for room (Wait) fill the spare meanwhile
                }

                WriteOut(full);
                lock (_gate)
                {
                    full.Clear();
                    _spare = full;
                    if (_closing && _filling.Length == 0)
                    {
                        return;
                    }

                    SignalLocked(); // what arrived during the write goes next, without waiting for another line
                }
            }
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    private void WriteOut(OutputLineBuffer full)
    {
        if (Volatile.Read(ref _failure) is not null)
        {
            return;
        }

        try
        {
            // Outside the lock: a stream that blocks here holds this thread only, never a connection.
            var lines = full.Written;
            for (int at = 0; at < lines.Length; at += WriteChunkBytes)
            {
                _stream.Write(lines.Slice(at, Math.Min(WriteChunkBytes, lines.Length - at)));
                Interlocked.Exchange(ref _progressAt, _options.TimeProvider.GetTimestamp());
            }

            _stream.Flush();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            lock (_gate)
            {
                _failure = e;
                ReleaseRoomLocked();
            }
        }
    }

    private void WarnIfDue()
    {
        long warn;
        lock (_gate)
        {
            warn = TakeDueWarningLocked();
        }

        if (warn > 0)
        {
            OutputLog.LinesSkipped(_logger, warn);
        }
    }
}
