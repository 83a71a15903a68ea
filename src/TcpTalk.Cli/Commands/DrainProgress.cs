using System.Globalization;
using TcpTalk.Client;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// The progress of draining a spool after the input ended, redrawn on one line of stderr four times a second, the way
/// <c>bench</c> shows its live line; only when stderr is a terminal (a log shipper's stderr is a file or a journal).
/// </summary>
internal sealed class DrainProgress : IDisposable
{
    private const int BarWidth = 20;
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);

    private readonly ReconnectingSender _sender;
    private readonly long _start;
    private readonly long _total;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private bool _stopped;

    private DrainProgress(ReconnectingSender sender, long total)
    {
        _sender = sender;
        _start = sender.Delivered;
        _total = total;
        _timer = new Timer(_ => Draw(), null, Period, Period);
    }

    /// <summary>Starts showing when stderr is a terminal and something is left to drain; otherwise returns null.</summary>
    public static DrainProgress? StartIfTerminal(ReconnectingSender sender)
    {
        long left = sender.Spool.Backlog.Messages;
        return Console.IsErrorRedirected || left == 0 ? null : new DrainProgress(sender, left);
    }

    /// <summary>Stops and erases the line.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            _timer.Dispose();
            Console.Error.Write("\r\u001b[2K");
            Console.Error.Flush();
        }
    }

    private void Draw()
    {
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            long done = Math.Max(0, _sender.Delivered - _start);
            double fraction = _total > 0 ? Math.Clamp((double)done / _total, 0, 1) : 1;
            int filled = (int)Math.Round(fraction * BarWidth);
            var backlog = _sender.Spool.Backlog;
            string line = string.Create(CultureInfo.InvariantCulture,
                $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {(int)Math.Round(fraction * 100),3}%  draining: {done} of {_total} delivered, backlog {SpoolSend.Describe(backlog)}, {Math.Max(0, _sender.Connections - 1)} reconnect(s)");
            int width = Width();
            Console.Error.Write($"\r\u001b[2K{(line.Length < width ? line : line[..(width - 1)])}");
            Console.Error.Flush();
        }
    }

    private static int Width()
    {
        try
        {
            return Console.WindowWidth is > 10 and var width ? width : 80;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException)
        {
            return 80;
        }
    }
}
