using System.Globalization;
using Spectre.Console;

namespace TcpTalk.Cli.Bench;

/// <summary>
/// Shows a run while it goes: a live progress bar with the current rate on a terminal, or (output redirected) one
/// plain line a second on stderr, so logs stay readable and stdout holds only the summary.
/// </summary>
internal sealed class BenchProgress(BenchRun run)
{
    private long _lastCount;
    private long _lastTicks = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Shows progress until <paramref name="running"/> completes, live on <paramref name="console"/> or as lines on <paramref name="lines"/>.</summary>
    public async Task ShowAsync(Task running, IAnsiConsole? console, TextWriter? lines)
    {
        if (console is not null)
        {
            await console.Progress()
                .AutoClear(true)
                .Columns(new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(Describe()), maxValue: 1.0);
                    while (!running.IsCompleted)
                    {
                        await Task.WhenAny(running, Task.Delay(250)).ConfigureAwait(false);
                        task.Value = Fraction();
                        task.Description = Markup.Escape(Describe());
                    }

                    task.Value = 1.0;
                }).ConfigureAwait(false);
        }
        else if (lines is not null)
        {
            while (!running.IsCompleted)
            {
                await Task.WhenAny(running, Task.Delay(1000)).ConfigureAwait(false);
                if (!running.IsCompleted)
                {
                    await lines.WriteLineAsync($"tcptalk bench: {run.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s: {Describe()}").ConfigureAwait(false);
                }
            }
        }
        else
        {
            await running.ConfigureAwait(false);
        }
    }

    /// <summary>How far the run is: the share of the window, or of --messages when only that bounds it.</summary>
    private double Fraction()
    {
        var options = run.Options;
        if (run.Stopping)
        {
            return 1.0;
        }

        if (options.Duration is { } duration)
        {
            return Math.Clamp(run.Elapsed / duration, 0, 1);
        }

        return options.Messages is { } total && total > 0 ? Math.Clamp((double)Done() / total, 0, 1) : 0;
    }

    /// <summary>The mode's count so far: sessions, messages written, or connections greeted.</summary>
    private long Done() => run.Options.Mode switch
    {
        BenchMode.Session => run.Counters.Sessions,
        BenchMode.Stream => run.Counters.BytesWritten / (run.Options.MessageBytes + 1),
        _ => run.Counters.Greeted,
    };

    private string Describe()
    {
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        long done = Done();
        double seconds = _lastTicks == 0 ? 0 : (double)(now - _lastTicks) / System.Diagnostics.Stopwatch.Frequency;
        double rate = seconds > 0 ? (done - _lastCount) / seconds : 0;
        _lastCount = done;
        _lastTicks = now;
        string unit = run.Options.Mode switch
        {
            BenchMode.Session => "sessions",
            BenchMode.Stream => "messages",
            _ => "greeted",
        };
        string state = run.Stopping ? ", finishing" : "";
        string pace = run.Options.Mode == BenchMode.Hold ? "" : $", {rate.ToString("N0", CultureInfo.InvariantCulture)}/s now";
        return $"{done.ToString("N0", CultureInfo.InvariantCulture)} {unit}{pace}, {run.Counters.TotalErrors.ToString("N0", CultureInfo.InvariantCulture)} errors{state}";
    }
}
