namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>A fact that needs PostgreSQL's binaries; skipped, with the reason, where they are missing.</summary>
internal sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresCluster.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>One primary with a synchronous standby, shared by the tests that do not stop or promote anything; each test uses a schema of its own.</summary>
public sealed class SharedCluster : IAsyncLifetime
{
    private PostgresCluster? _cluster;

    internal PostgresCluster Cluster => _cluster ?? throw new InvalidOperationException(PostgresCluster.MissingReason ?? "cluster not started");

    public async Task InitializeAsync()
    {
        if (PostgresCluster.MissingReason is null)
        {
            _cluster = await PostgresCluster.StartAsync(standby: true);
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SharedClusterCollection : ICollectionFixture<SharedCluster>
{
    public const string Name = "PostgreSQL cluster";
}

/// <summary>A fact that needs PostgreSQL and a disk it can fill (root, to mount a small tmpfs); skipped with the reason otherwise.</summary>
internal sealed class PostgresDiskFullFactAttribute : FactAttribute
{
    public PostgresDiskFullFactAttribute()
    {
        if (PostgresCluster.MissingReason is { } reason)
        {
            Skip = reason;
        }
        else if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Skip = "needs root on Linux, to mount a small tmpfs for PostgreSQL to fill";
        }
    }
}
