using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace TcpTalk.Hosting;

/// <summary>
/// Makes the logger filters read the configuration again, on demand: <see cref="TalkServerReloader"/> signals it when it
/// applies a reload, before the line that says the reload is in force. The logging configuration's own reload token
/// fires too, but a configuration root runs its reload callbacks newest first, so the filters would follow only after
/// the reloader has logged "reloaded": a connection accepted in between was still filtered by the old levels.
/// </summary>
internal sealed class LogFilterReloadSignal : IOptionsChangeTokenSource<LoggerFilterOptions>
{
    private CancellationTokenSource _current = new();

    public string? Name => Options.DefaultName;

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _current).Token);

    /// <summary>Runs the filters' refresh on this thread, synchronously (the options monitor's change callback).</summary>
    public void Signal()
    {
        using var fired = Interlocked.Exchange(ref _current, new CancellationTokenSource());
        fired.Cancel();
    }
}
