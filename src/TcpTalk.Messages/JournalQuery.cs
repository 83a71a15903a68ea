using System.Net;

namespace TcpTalk.Messages;

/// <summary>
/// Which records an <see cref="IJournalReader"/> returns, for every store. Every filter left null matches everything;
/// the filters set must all match. Records always come in id order.
/// </summary>
public sealed class JournalQuery
{
    /// <summary>A query that matches every record.</summary>
    public static JournalQuery All { get; } = new();

    /// <summary>Only records received at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only records received before this time (exclusive, so consecutive ranges never overlap).</summary>
    public DateTimeOffset? Until { get; init; }

    /// <summary>
    /// Only records whose client address is in this network: <c>192.0.2.0/24</c>, or one address as <c>/32</c> or
    /// <c>/128</c>. IPv4-mapped IPv6 networks match the plain IPv4 addresses the server stores.
    /// </summary>
    public IPNetwork? From { get; init; }

    /// <summary>Only records whose <see cref="JournalRecord.Text"/> contains this string (ordinal, case-sensitive).</summary>
    public string? Contains { get; init; }

    /// <summary>
    /// Only records stored by this node (<see cref="JournalRecord.NodeName"/>, exact). A store that several servers
    /// share (PostgreSQL) applies it; a single-node store (the embedded SQLite journal) rejects a query that sets it
    /// with <see cref="ArgumentException"/>, since it stores no node name and ignoring the filter would return
    /// records of a node nobody asked for.
    /// </summary>
    public string? Node { get; init; }

    /// <summary>Only records with an id greater than this: resume where an earlier read stopped.</summary>
    public long? AfterId { get; init; }

    /// <summary>At most this many records; null for no limit. Must be at least 1.</summary>
    public int? Limit { get; init; }

    /// <summary>
    /// With <see cref="Limit"/>: keep the newest matches rather than the oldest (like <c>tail -n</c>); they still
    /// come oldest first.
    /// </summary>
    public bool Newest { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first filter out of range.</summary>
    public void Validate()
    {
        if (Limit is < 1)
        {
            throw new ArgumentException($"Limit is {Limit}; it must be at least 1 (or null for no limit)");
        }

        if (Since is { } since && Until is { } until && until < since)
        {
            throw new ArgumentException($"Until ({until:O}) is before Since ({since:O})");
        }
    }

    /// <summary>The same filters without limit, newest and after-id: what a follow applies to records committed later.</summary>
    public JournalQuery FiltersOnly() => new() { Since = Since, Until = Until, From = From, Contains = Contains, Node = Node };
}
