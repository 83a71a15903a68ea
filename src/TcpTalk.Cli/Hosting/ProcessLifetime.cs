using Microsoft.Extensions.Hosting;

namespace TcpTalk.Cli.Hosting;

/// <summary>
/// The host's lifetime when not run by the Windows service manager: it handles no signals itself, because Program
/// already turns the first SIGINT/SIGTERM into the stop token (and lets a second one end the process at once, which
/// the host's console and systemd lifetimes would swallow).
/// </summary>
internal sealed class ProcessLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
