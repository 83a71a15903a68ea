using System.Diagnostics.Metrics;
using System.Net;

namespace TcpTalk.Admin;

/// <summary>Settings of an <see cref="AdminEndpoint"/>: where it listens, what /readyz asks and which meters /metrics shows.</summary>
public sealed class AdminEndpointOptions
{
    /// <summary>The default meter shown by /metrics: the server's.</summary>
    public const string ServerMeterName = "TcpTalk.Server";

    /// <summary>Where to listen (default 127.0.0.1:9464, the port Prometheus exporters customarily use); port 0 picks a free one.</summary>
    public IPEndPoint Listen { get; set; } = new(IPAddress.Loopback, 9464);

    /// <summary>What <c>GET /readyz</c> asks; null means ready whenever the endpoint serves.</summary>
    public IReadinessSource? Readiness { get; set; }

    /// <summary>
    /// Which meters' instruments /metrics shows; default: every meter named <see cref="ServerMeterName"/> (summed when
    /// several servers run in one process). Set it to e.g. <c>m =&gt; m.Scope == myMeterFactory</c> to show only one.
    /// </summary>
    public Func<Meter, bool> MeterFilter { get; set; } = static meter => meter.Name == ServerMeterName;

    /// <summary>Whether /metrics also shows process_* and dotnet_* series (default true).</summary>
    public bool IncludeProcessMetrics { get; set; } = true;

    /// <summary>How many HTTP connections are served at once; more wait in the listen backlog (default 8).</summary>
    public int MaxConcurrentRequests { get; set; } = 8;

    /// <summary>How long a client may take to send its request head before it is dropped (default 5 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
