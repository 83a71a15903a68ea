namespace TcpTalk.Journal.Postgres;

/// <summary>Settings of a <see cref="PostgresJournalReader"/>.</summary>
public sealed class PostgresJournalReaderOptions
{
    /// <summary>The schema to read; overrides the URI's <c>?schema=</c>. Default null: the URI's.</summary>
    public string? Schema { get; set; }

    /// <summary>
    /// How long <see cref="PostgresJournalReader.FollowAsync"/> waits for a NOTIFY before it looks for new records
    /// anyway. Default 5 s: NOTIFY wakes it within milliseconds of each commit; this only bounds the delay when a
    /// wake-up was lost (the follower reconnected, say). Range 10 ms to 1 hour.
    /// </summary>
    public TimeSpan FallbackPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a follow waits before reconnecting after losing the database. Default 1 s. Range 10 ms to 1 minute.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Schema is not null && !PostgresJournalUri.IsPlainIdentifier(Schema))
        {
            throw new ArgumentException($"Schema '{Schema}' must be 1 to 63 letters, digits or underscores, not starting with a digit");
        }

        if (FallbackPollInterval < TimeSpan.FromMilliseconds(10) || FallbackPollInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"FallbackPollInterval is {FallbackPollInterval}; it must be between 10 ms and 1 hour");
        }

        if (ReconnectDelay < TimeSpan.FromMilliseconds(10) || ReconnectDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"ReconnectDelay is {ReconnectDelay}; it must be between 10 ms and 1 minute");
        }
    }
}
