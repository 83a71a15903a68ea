using Microsoft.Extensions.Logging;

namespace TcpTalk.Cli.Tests.Output;

/// <summary>
/// A stream whose writes can be held, like a pipe whose reader stopped reading: each write blocks while
/// <see cref="Hold"/> is on, and what was written is read back whole. Thread-safe; every wait is bounded.
/// </summary>
internal sealed class HeldStream : Stream
{
    private readonly MemoryStream _written = new();
    private readonly ManualResetEventSlim _open = new(initialState: true);
    private int _blockedWrites;

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

    /// <summary>Writes in progress that are blocked by <see cref="Hold"/>.</summary>
    public int BlockedWrites => Volatile.Read(ref _blockedWrites);

    /// <summary>Makes every write from now on block until <see cref="Release"/>.</summary>
    public void Hold() => _open.Reset();

    /// <summary>Lets blocked and future writes through.</summary>
    public void Release() => _open.Set();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

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

        lock (_written)
        {
            _written.Write(buffer);
        }
    }

    public override void Flush()
    {
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _open.Set();
            _open.Dispose();
            _written.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>A stream that takes <paramref name="goodWrites"/> writes, then fails every one like a closed pipe.</summary>
internal sealed class FailingStream(int goodWrites) : Stream
{
    private readonly MemoryStream _written = new();
    private int _writes;

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

    public int Writes => Volatile.Read(ref _writes);

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (Interlocked.Increment(ref _writes) > goodWrites)
        {
            throw new IOException("Broken pipe");
        }

        lock (_written)
        {
            _written.Write(buffer);
        }
    }

    public override void Flush()
    {
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
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
