using System.Net;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>Which PROXY protocol header a balancer prepends: v1 (text) or v2 (binary).</summary>
public enum ProxyProtocolVersion
{
    V1 = 1,
    V2 = 2,
}

/// <summary>
/// HAProxy (Debian's haproxy) in TCP mode on a free loopback port in front of one backend port, sending the PROXY
/// protocol header (<c>send-proxy</c> or <c>send-proxy-v2</c>, with the unique-id TLV for v2) and health-checking
/// the backend every 500 ms (the checks carry the header too: v2 sends them as LOCAL). Runs in the foreground
/// (<c>-db</c>) from a config in its own temp dir; stopped by its PID on dispose.
/// </summary>
public sealed class HaproxyFixture : IAsyncDisposable
{
    /// <summary>The <c>unique-id-format</c> haproxy's documentation uses: client, frontend, time, request count, pid, in hex.</summary>
    public const string UniqueIdFormat = @"%{+X}o\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid";

    private readonly BalancerProcess _process;

    private HaproxyFixture(BalancerProcess process) => _process = process;

    /// <summary>Null when haproxy can run here; otherwise why the tests that need it are skipped.</summary>
    public static string? Missing => s_missing.Value;

    private static readonly Lazy<string?> s_missing = new(() =>
        !OperatingSystem.IsLinux() ? "needs Linux: haproxy is started from Debian's package and watched through /proc/net/tcp"
        : Executables.Find("haproxy") is null ? "haproxy is not installed (apt-get install haproxy; .ci/run installs it)"
        : null);

    /// <summary>Where clients connect.</summary>
    public IPEndPoint Frontend => _process.Frontend;

    /// <summary>The haproxy process's PID.</summary>
    public int ProcessId => _process.ProcessId;

    /// <summary>Its output so far, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Starts haproxy in front of 127.0.0.1:<paramref name="backendPort"/> and waits until it listens.</summary>
    public static async Task<HaproxyFixture> StartAsync(int backendPort, ProxyProtocolVersion version, bool healthChecks = true)
    {
        string serverOptions = version == ProxyProtocolVersion.V2 ? "send-proxy-v2 proxy-v2-options unique-id" : "send-proxy";
        string checks = healthChecks ? " check inter 500ms" : "";
        var process = await BalancerProcess.StartAsync("haproxy", Executables.Find("haproxy")!, "haproxy.cfg",
            (directory, port) => $"""
                global
                    pidfile {directory}/haproxy.pid
                    log stderr format raw local0 info
                defaults
                    mode tcp
                    log global
                    timeout connect 2s
                    timeout client 30s
                    timeout server 30s
                frontend tcptalk
                    bind 127.0.0.1:{port}
                    unique-id-format {UniqueIdFormat}
                    default_backend nodes
                backend nodes
                    server node1 127.0.0.1:{backendPort} {serverOptions}{checks}
                """,
            (config, _) => ["-db", "-f", config]);
        return new HaproxyFixture(process);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>Finds programs on PATH (and in the sbin directories, where Debian puts nginx and haproxy).</summary>
internal static class Executables
{
    public static string? Find(string name)
    {
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]);
        return folders.Where(folder => folder.Length > 0).Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
    }
}

/// <summary>A fact that needs haproxy; skipped with <see cref="HaproxyFixture.Missing"/> as the reason where it is absent.</summary>
public sealed class HaproxyFactAttribute : FactAttribute
{
    public HaproxyFactAttribute()
    {
        if (HaproxyFixture.Missing is { } missing)
        {
            Skip = missing;
        }
    }
}

/// <summary>A theory that needs haproxy; skipped like <see cref="HaproxyFactAttribute"/>.</summary>
public sealed class HaproxyTheoryAttribute : TheoryAttribute
{
    public HaproxyTheoryAttribute()
    {
        if (HaproxyFixture.Missing is { } missing)
        {
            Skip = missing;
        }
    }
}
