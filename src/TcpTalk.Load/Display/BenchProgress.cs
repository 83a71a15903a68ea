using System.Diagnostics;
using System.Globalization;

namespace TcpTalk.Load;

/// <summary>How <see cref="BenchRunner"/> shows a run while it goes.</summary>
public enum BenchProgressStyle
{
    /// <summary>Nothing until the result.</summary>
    None,

    /// <summary>One plain line a second (for a log or a redirected stderr).</summary>
    Lines,

    /// <summary>One status line redrawn in place four times a second (for a terminal).</summary>
    Live,
}

/// <summary>
/// Shows a run while it goes, from a thread of its own that wakes a few times a second and reads the counters:
/// nothing on the load path waits for it, renders for it or allocates for it. Live, it redraws one line in place
/// (carriage return, erase line) four times a second; as lines, it writes one a second.
/// </summary>
/// <remarks>
/// A terminal once cost the load 20-50% of its rate when a Spectre.Console live progress display rendered it
/// (issue 16); a line of text written from a timer costs it nothing measurable (bench/README.md has the figures).
/// </remarks>
internal sealed class BenchProgress : IDisposable
{
    private static readonly TimeSpan LivePeriod = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LinePeriod = TimeSpan.FromSeconds(1);
    private const int BarWidth = 20;

    private readonly BenchRun _run;
    private readonly BenchProgressStyle _style;
    private readonly TextWriter _writer;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread? _thread;
    private long _lastCount;
    private long _lastTicks = Stopwatch.GetTimestamp();

    private BenchProgress(BenchRun run, BenchProgressStyle style, TextWriter writer)
    {
        _run = run;
        _style = style;
        _writer = writer;
        if (style != BenchProgressStyle.None)
        {
            _thread = new Thread(Show) { IsBackground = true, Name = "bench progress" };
            _thread.Start();
        }
    }

    /// <summary>Starts showing <paramref name="run"/> on <paramref name="writer"/> in <paramref name="style"/> until disposed.</summary>
    public static BenchProgress Start(BenchRun run, BenchProgressStyle style, TextWriter writer) => new(run, style, writer);

    /// <summary>Stops showing; a live line is erased, so the summary starts on a clean line.</summary>
    public void Dispose()
    {
        _stop.Set();
        _thread?.Join();
        if (_style == BenchProgressStyle.Live)
        {
            _writer.Write("\r\u001b[2K");
            _writer.Flush();
        }

        _stop.Dispose();
    }

    private void Show()
    {
        var period = _style == BenchProgressStyle.Live ? LivePeriod : LinePeriod;
        while (!_stop.Wait(period))
        {
            string status = Describe();
            if (_style == BenchProgressStyle.Live)
            {
                // One row only: a wrapped line would leave its first row behind at the next redraw.
                string line = $"{Bar(Fraction())} {_run.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s  {status}";
                int width = TerminalWidth();
                _writer.Write($"\r\u001b[2K{(line.Length < width ? line : line[..(width - 1)])}");
            }
            else
            {
                _writer.WriteLine($"tcptalk bench: {_run.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s: {status}");
            }

            _writer.Flush();
        }
    }

    /// <summary>The terminal's width in columns (80 when it cannot be told), read each time: the window may be resized.</summary>
    private static int TerminalWidth()
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

    /// <summary><c>[#####.....]  25%</c> for <paramref name="fraction"/>.</summary>
    internal static string Bar(double fraction)
    {
        int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * BarWidth);
        return $"[{new string('#', filled)}{new string('.', BarWidth - filled)}] {(int)Math.Round(fraction * 100),3}%";
    }

    /// <summary>How far the run is: the share of the window, or of --messages when only that bounds it.</summary>
    private double Fraction()
    {
        var options = _run.Options;
        if (_run.Clock.Stopping)
        {
            return 1.0;
        }

        if (options.Duration is { } duration)
        {
            return Math.Clamp(_run.Elapsed / duration, 0, 1);
        }

        return options.Messages is { } total && total > 0 ? Math.Clamp((double)Done() / total, 0, 1) : 0;
    }

    /// <summary>The mode's count so far: sessions, messages written, or connections greeted.</summary>
    private long Done() => _run.Options.Mode switch
    {
        BenchMode.Session => _run.Counters.Sessions,
        BenchMode.Stream => _run.Counters.BytesWritten / (_run.Options.MessageBytes + 1),
        _ => _run.Counters.Greeted,
    };

    private string Describe()
    {
        long now = Stopwatch.GetTimestamp();
        long done = Done();
        double seconds = (double)(now - _lastTicks) / Stopwatch.Frequency;
        double rate = seconds > 0 ? (done - _lastCount) / seconds : 0;
        _lastCount = done;
        _lastTicks = now;
        string unit = _run.Options.Mode switch
        {
            BenchMode.Session => "sessions",
            BenchMode.Stream => "messages",
            _ => "greeted",
        };
        string state = _run.Clock.Stopping ? ", finishing" : "";
        string pace = _run.Options.Mode == BenchMode.Hold ? "" : $", {rate.ToString("N0", CultureInfo.InvariantCulture)}/s now";
        return $"{done.ToString("N0", CultureInfo.InvariantCulture)} {unit}{pace}, {_run.Counters.TotalErrors.ToString("N0", CultureInfo.InvariantCulture)} errors{state}";
    }
}
