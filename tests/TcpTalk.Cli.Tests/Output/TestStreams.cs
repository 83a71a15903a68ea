using Microsoft.Extensions.Logging;

namespace TcpTalk.Cli.Tests.Output;

/// <summary>
/// A stream that can only be written, and keeps what was written (<see cref="Written"/>): reading, seeking and lengths
/// are not supported, flushing does nothing. A subclass decides what each write does before it calls <see cref="Keep"/>.
/// </summary>
internal abstract class WriteOnlyStream : Stream
{
    private readonly MemoryStream _written = new();

    /// <summary>Bytes written so far.</summary>
    public byte[] Written
    {
        get
        {
            lock (_written)
            {
                return _written.ToArray();
            }
        }
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public abstract override void Write(ReadOnlySpan<byte> buffer);

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Adds <paramref name="buffer"/> to <see cref="Written"/>. Thread-safe.</summary>
    protected void Keep(ReadOnlySpan<byte> buffer)
    {
        lock (_written)
        {
            _written.Write(buffer);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _written.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// A stream whose writes can be held, like a pipe whose reader stopped reading: each write blocks while
/// <see cref="Hold"/> is on, and what was written is read back whole. Thread-safe; every wait is bounded.
/// </summary>
internal sealed class HeldStream : WriteOnlyStream
{
    private readonly ManualResetEventSlim _open = new(initialState: true);
    private int _blockedWrites;

    /// <summary>Writes in progress that are blocked by <see cref="Hold"/>.</summary>
    public int BlockedWrites => Volatile.Read(ref _blockedWrites);

    /// <summary>Makes every write from now on block until <see cref="Release"/>.</summary>
    public void Hold() => _open.Reset();

    /// <summary>Lets blocked and future writes through.</summary>
    public void Release() => _open.Set();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Interlocked.Increment(ref _blockedWrites);
        try
        {
            if (!_open.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new IOException("test stream held for 30 s");
            }
        }
        finally
        {
            Interlocked.Decrement(ref _blockedWrites);
        }

        Keep(buffer);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _open.Set();
            _open.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A stream that takes <paramref name="goodWrites"/> writes, then fails every one like a closed pipe.</summary>
internal sealed class FailingStream(int goodWrites) : WriteOnlyStream
{
    private int _writes;

    public int Writes => Volatile.Read(ref _writes);

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Interlocked.Increment(ref _writes) > goodWrites)
        {
            throw new IOException("Broken pipe");
        }

        Keep(buffer);
    }
}

/// <summary>Every log line, with its level and category, as the tests read them.</summary>
internal sealed class CapturedLog : ILoggerFactory
{
    private readonly List<(string Category, LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(string Category, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (log._entries)
            {
                log._entries.Add((category, logLevel, formatter(state, exception)));
            }
        }
    }
}
