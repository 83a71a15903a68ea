namespace TcpTalk.Load;

/// <summary>A load connection failed in a way the socket does not report (closed before the greeting, greeting too long).</summary>
internal sealed class BenchFailureException(BenchErrorKind kind) : Exception(kind.ToName())
{
    /// <summary>What to count it as.</summary>
    public BenchErrorKind Kind { get; } = kind;
}
