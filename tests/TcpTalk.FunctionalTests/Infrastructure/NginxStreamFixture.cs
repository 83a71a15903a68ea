using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>
/// nginx's stream module (Debian's nginx + libnginx-mod-stream) on a free loopback port proxying to one backend port
/// with <c>proxy_protocol on</c> (v1). Own config, pid file and error log in a temp dir (<c>-p</c>, <c>-e</c>: the
/// packaged /etc/nginx and /var/log/nginx are never touched), <c>daemon off</c> so the process started is the master,
/// one worker; as root the worker stays root (<c>user root</c>), since nothing in the temp dir is readable to
/// www-data. Stopped by the master's PID on dispose (SIGTERM: nginx's fast shutdown ends the worker too).
/// </summary>
public sealed class NginxStreamFixture : IAsyncDisposable
{
    private readonly BalancerProcess _process;

    private NginxStreamFixture(BalancerProcess process) => _process = process;

    /// <summary>Null when nginx with the stream module can run here; otherwise why the tests that need it are skipped.</summary>
    public static string? Missing => s_probe.Value.Missing;

    private static readonly Lazy<(string? Missing, string LoadModule)> s_probe = new(Probe);

    /// <summary>Where clients connect.</summary>
    public IPEndPoint Frontend => _process.Frontend;

    /// <summary>The nginx master's PID.</summary>
    public int ProcessId => _process.ProcessId;

    /// <summary>Its output and error log so far, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>Starts nginx in front of 127.0.0.1:<paramref name="backendPort"/> and waits until it listens.</summary>
    public static async Task<NginxStreamFixture> StartAsync(int backendPort)
    {
        string user = Environment.UserName == "root" ? "user root;" : "";
        var process = await BalancerProcess.StartAsync("nginx", Executables.Find("nginx")!, "nginx.conf",
            (directory, port) => $$"""
                {{s_probe.Value.LoadModule}}
                {{user}}
                daemon off;
                worker_processes 1;
                pid {{directory}}/nginx.pid;
                error_log {{directory}}/error.log info;
                events { worker_connections 64; }
                stream {
                    server {
                        listen 127.0.0.1:{{port}};
                        proxy_pass 127.0.0.1:{{backendPort}};
                        proxy_protocol on;
                        proxy_connect_timeout 2s;
                    }
                }
                """,
            (config, directory) => ["-p", directory, "-e", Path.Combine(directory, "error.log"), "-c", config]);
        return new NginxStreamFixture(process);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    /// <summary>nginx on PATH, and its stream module either built in or a dynamic module file next to the others.</summary>
    private static (string? Missing, string LoadModule) Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return ("needs Linux: nginx is started from Debian's package and watched through /proc/net/tcp", "");
        }

        if (Executables.Find("nginx") is not { } nginx)
        {
            return ("nginx is not installed (apt-get install nginx libnginx-mod-stream; .ci/run installs them)", "");
        }

        // nginx -V prints its configure arguments on stderr.
        using var version = Process.Start(new ProcessStartInfo(nginx, "-V") { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string configure = version.StandardError.ReadToEnd();
        version.WaitForExit(10_000);
        if (Regex.IsMatch(configure, @"--with-stream(\s|$)"))
        {
            return (null, "");
        }

        string modules = Regex.Match(configure, @"--modules-path=(\S+)") is { Success: true } match ? match.Groups[1].Value : "/usr/lib/nginx/modules";
        string module = Path.Combine(modules, "ngx_stream_module.so");
        if (configure.Contains("--with-stream=dynamic", StringComparison.Ordinal) && File.Exists(module))
        {
            return (null, $"load_module {module};");
        }

        return ($"nginx has no stream module (apt-get install libnginx-mod-stream; looked for {module})", "");
    }
}

/// <summary>A fact that needs nginx's stream module; skipped with <see cref="NginxStreamFixture.Missing"/> as the reason.</summary>
public sealed class NginxStreamFactAttribute : FactAttribute
{
    public NginxStreamFactAttribute()
    {
        if (NginxStreamFixture.Missing is { } missing)
        {
            Skip = missing;
        }
    }
}
