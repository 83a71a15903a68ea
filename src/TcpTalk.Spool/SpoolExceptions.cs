namespace TcpTalk.Spool;

/// <summary>The spool cannot be used: in use by another process, not a spool, damaged, or not creatable. The message is one sentence.</summary>
public class SpoolUnavailableException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public SpoolUnavailableException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>Another process (or another spool object in this one) has the spool open: one writer per directory.</summary>
public sealed class SpoolInUseException(string directory, int? processId, Exception? innerException = null)
    : SpoolUnavailableException(processId is { } pid
        ? $"spool {directory} is in use by process {pid} (one sender per spool directory)"
        : $"spool {directory} is in use by another process (one sender per spool directory)", innerException)
{
    /// <summary>The spool's directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The process holding it, when known.</summary>
    public int? ProcessId { get; } = processId;
}

/// <summary>A stored message failed its CRC-32C check: the file was damaged outside SQLite's guarantees.</summary>
public sealed class SpoolDamagedException(string directory, long sequence)
    : SpoolUnavailableException($"spool {directory}: message {sequence} is damaged (its CRC-32C does not match); move the directory aside to start afresh")
{
    /// <summary>The damaged message's sequence number.</summary>
    public long Sequence { get; } = sequence;
}
