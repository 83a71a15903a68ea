namespace TcpTalk.Admin;

/// <summary>
/// Answers <c>GET /readyz</c>: returns null when the service should receive traffic, otherwise one short sentence
/// saying why not (sent as the 503 body). Called on every probe, from the admin endpoint's own threads, so it must
/// be cheap, thread-safe and must not block.
/// </summary>
public interface IReadinessSource
{
    /// <summary>Null when ready; otherwise the reason, one line without a line break (e.g. "journal is not writable").</summary>
    string? NotReadyReason();
}
