namespace TcpTalk.Messages;

/// <summary>
/// Reads what a store committed, whichever store it is: the embedded SQLite journal (<c>JournalReader</c>) and the
/// shared PostgreSQL journal (<c>PostgresJournalReader</c>) both implement it, so <c>tcptalk messages</c> and
/// applications read either through this one contract. Failures of the store are
/// <see cref="JournalUnavailableException"/> or the store's own exception; an invalid query is
/// <see cref="ArgumentException"/>.
/// </summary>
public interface IJournalReader : IAsyncDisposable
{
    /// <summary>The highest id committed so far; 0 for an empty journal.</summary>
    Task<long> GetLastIdAsync(CancellationToken cancellationToken = default);

    /// <summary>The records committed so far that match <paramref name="query"/>, oldest first.</summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>), or sets a filter this store cannot apply.</exception>
    IAsyncEnumerable<JournalRecord> QueryAsync(JournalQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// The records committed so far that match <paramref name="query"/> (with its <see cref="JournalQuery.Limit"/>),
    /// then every matching record committed later, as it is committed, until <paramref name="cancellationToken"/> is
    /// cancelled (which ends the enumeration with <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The query is invalid, or sets a filter this store cannot apply.</exception>
    IAsyncEnumerable<JournalRecord> FollowAsync(JournalQuery query, CancellationToken cancellationToken = default);
}
